import type { EmbeddingTokenCounter } from "./token-counter.js";

/**
 * The part of the context guard (src/context-guard, `ContextGuardLike`) that embeddings use. Declared
 * structurally here because embeddings sit above the guard and only need this one method.
 */
export interface EmbeddingContextGuard {
  clampEmbedding(
    model: string,
    texts: string[],
    signal?: AbortSignal,
  ): Promise<{ model: string; contextLength: number; tokenCounts: number[] }>;
}

/** Uses the guard's measured context and its token counts (the guard owns the SDK and its caching). */
export function guardTokenCounter(guard: EmbeddingContextGuard): EmbeddingTokenCounter {
  return {
    async loadedModel(model, signal) {
      const clamp = await guard.clampEmbedding(model, [], signal);
      return { identifier: clamp.model, contextLength: clamp.contextLength };
    },
    async countTokens(model, texts, signal) {
      if (texts.length === 0) return [];
      return (await guard.clampEmbedding(model, texts, signal)).tokenCounts;
    },
  };
}

/**
 * `contextGuard: true`: a guard for the same server, built on first use (importing the guard only
 * then, like ChatLMStudio does).
 */
export function lazyContextGuard(server: {
  baseUrl: string;
  apiKey?: string;
}): EmbeddingContextGuard & { close(): Promise<void> } {
  let guard: Promise<EmbeddingContextGuard & { close(): Promise<void> }> | undefined;
  return {
    async clampEmbedding(model, texts, signal) {
      guard ??= import("../context-guard/index.js").then(
        ({ ContextGuard }) =>
          new ContextGuard({ baseUrl: server.baseUrl, ...(server.apiKey ? { apiKey: server.apiKey } : {}) }),
      );
      return (await guard).clampEmbedding(model, texts, signal);
    },
    async close() {
      const built = guard;
      guard = undefined;
      if (built) await (await built).close();
    },
  };
}
