import type { ContextGuardLike } from "../context-guard/types.js";

/**
 * Resolves ChatLMStudio's `contextGuard` option to a guard. A guard object is used as given;
 * `true` asks the context-guard module for one built from the same server settings.
 */
export async function resolveContextGuard(
  option: true | ContextGuardLike,
  _server: { baseUrl: string; apiKey?: string },
): Promise<ContextGuardLike> {
  if (option !== true) return option;
  throw new Error(
    "contextGuard: true is not available yet (the context-guard module has no createContextGuard). " +
      "Pass a ContextGuardLike instance instead.",
  );
}
