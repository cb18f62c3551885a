import type { ContextGuardLike } from "../context-guard/types.js";

/**
 * Resolves ChatLMStudio's `contextGuard` option to a guard. A guard object is used as given;
 * `true` builds one for the same server. The guard module is imported on first use so apps that
 * never enable it never load the LM Studio SDK it talks through.
 */
export async function resolveContextGuard(
  option: true | ContextGuardLike,
  server: { baseUrl: string; apiKey?: string },
): Promise<ContextGuardLike> {
  if (option !== true) return option;
  const { ContextGuard } = await import("../context-guard/index.js");
  return new ContextGuard({ baseUrl: server.baseUrl, ...(server.apiKey ? { apiKey: server.apiKey } : {}) });
}

/**
 * Checks the option when the model is built, so a plain options object (`{ registryPath }`) or any
 * other wrong value fails at once with its name instead of as "clampChat is not a function" on the
 * first request (JavaScript callers get no type check).
 */
export function assertContextGuardOption(
  option: unknown,
): asserts option is boolean | ContextGuardLike | undefined {
  if (option === undefined || typeof option === "boolean") return;
  if (
    typeof option === "object" &&
    option !== null &&
    typeof (option as ContextGuardLike).clampChat === "function"
  )
    return;
  throw new TypeError(
    "contextGuard must be true, false or a guard object (with clampChat); for guard options such as " +
      "registryPath pass `contextGuard: createContextGuard({ ... })` from langchain-lmstudio/context-guard",
  );
}
