/**
 * Two llama.cpp-server answers that LM Studio (and llama.cpp's own server) pass through (reference
 * §9.3, §9.4): a shared KV cache that ran out, and the current prompt-overflow body with its numbers.
 */

/** The llama.cpp error object inside a body (`{error:{…}}`), or the object itself (an SSE error frame). */
function errorObjectOf(body: unknown): Record<string, unknown> | undefined {
  if (typeof body !== "object" || body === null) return undefined;
  const record = body as Record<string, unknown>;
  const inner = record.error;
  if (typeof inner === "object" && inner !== null) return inner as Record<string, unknown>;
  return record;
}

const CONTEXT_SIZE_EXCEEDED = /Context size has been exceeded/;

/**
 * `Context size has been exceeded.` is llama.cpp's text for a shared KV cache that ran out: an HTTP
 * 500, or an error frame of type `server_error` inside a stream. MLX's overflow uses the same words
 * but is answered with a 4xx and no llama.cpp error type, so it stays a prompt overflow.
 */
export function isKvCacheExhaustion(status: number | undefined, body: unknown, message: string): boolean {
  if (!CONTEXT_SIZE_EXCEEDED.test(message)) return false;
  if (status !== undefined && status >= 500) return true;
  const error = errorObjectOf(body);
  return error?.type === "server_error" || error?.code === 500;
}

/** llama.cpp server's `exceed_context_size_error` (by type or wording), with its token counts. */
export function parseLlamaServerOverflow(
  body: unknown,
  message: string,
): { promptTokens?: number; contextLength?: number } | undefined {
  const error = errorObjectOf(body);
  const counted = (value: unknown) =>
    typeof value === "number" && Number.isInteger(value) ? value : undefined;
  const words = /request \((\d+) tokens\) exceeds the available context size \((\d+) tokens\)/.exec(message);
  const byType = error?.type === "exceed_context_size_error";
  if (!byType && !words && !/exceeds the available context size/.test(message)) return undefined;
  const promptTokens = counted(error?.n_prompt_tokens) ?? (words ? Number(words[1]) : undefined);
  const contextLength = counted(error?.n_ctx) ?? (words ? Number(words[2]) : undefined);
  return {
    ...(promptTokens !== undefined ? { promptTokens } : {}),
    ...(contextLength !== undefined ? { contextLength } : {}),
  };
}
