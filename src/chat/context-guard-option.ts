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
