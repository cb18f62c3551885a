import { TokenCountCache } from "../context-guard/token-count-cache.js";
import type { EmbeddingTokenCounter, LoadedEmbeddingModel } from "./token-counter.js";

/**
 * The slice of an `@lmstudio/sdk` EmbeddingModel handle that counting needs. Kept structural so this
 * file does not import the SDK (only src/context-guard/model-host.ts may): the guard's model host
 * hands out objects of this shape.
 */
export interface EmbeddingModelTokenizer {
  /** The loaded instance's identifier, when it differs from the key it was asked for. */
  readonly identifier?: string;
  countTokens(text: string): Promise<number>;
  getContextLength(): Promise<number>;
}

/** Returns the loaded embedding model for a model key or identifier. */
export type EmbeddingModelResolver = (
  model: string,
  signal?: AbortSignal,
) => Promise<EmbeddingModelTokenizer>;

export interface TokenizerEmbeddingTokenCounterOptions {
  /** Most counting calls in flight at once per `countTokens` call (default 16). */
  concurrency?: number;
  cache?: TokenCountCache;
}

/**
 * Counts with the model's own tokenizer, through whatever handle `resolve` returns (the guard's model
 * host hands out SDK-backed ones; tests pass their own), caching counts by model and text hash.
 * The context length is asked every time (one cheap call per batch of inputs) because the model can
 * be reloaded with a different context between calls.
 */
export class TokenizerEmbeddingTokenCounter implements EmbeddingTokenCounter {
  private readonly handles = new Map<string, Promise<EmbeddingModelTokenizer>>();
  private readonly cache: TokenCountCache;
  private readonly concurrency: number;

  constructor(
    private readonly resolve: EmbeddingModelResolver,
    options: TokenizerEmbeddingTokenCounterOptions = {},
  ) {
    this.cache = options.cache ?? new TokenCountCache();
    this.concurrency = Math.max(1, options.concurrency ?? 16);
  }

  private handle(model: string, signal?: AbortSignal): Promise<EmbeddingModelTokenizer> {
    let handle = this.handles.get(model);
    if (!handle) {
      handle = this.resolve(model, signal);
      // A failed lookup (server down, model not loaded yet) must not poison later calls.
      handle.catch(() => this.handles.delete(model));
      this.handles.set(model, handle);
    }
    return handle;
  }

  async loadedModel(model: string, signal?: AbortSignal): Promise<LoadedEmbeddingModel> {
    try {
      return await this.read(model, await this.handle(model, signal));
    } catch {
      // The instance may have been unloaded (TTL, eviction) since we found it: look it up once more.
      this.handles.delete(model);
      return this.read(model, await this.handle(model, signal));
    }
  }

  private async read(model: string, handle: EmbeddingModelTokenizer): Promise<LoadedEmbeddingModel> {
    return { identifier: handle.identifier ?? model, contextLength: await handle.getContextLength() };
  }

  async countTokens(model: string, texts: string[], signal?: AbortSignal): Promise<number[]> {
    const counts = texts.map((text) => this.cache.get(model, text));
    const missing = counts.flatMap((count, index) => (count === undefined ? [index] : []));
    if (missing.length === 0) return counts as number[];
    const handle = await this.handle(model, signal);
    let next = 0;
    const worker = async () => {
      while (next < missing.length) {
        signal?.throwIfAborted();
        const index = missing[next++]!;
        const text = texts[index]!;
        const count = await handle.countTokens(text);
        this.cache.set(model, text, count);
        counts[index] = count;
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.concurrency, missing.length) }, worker));
    return counts as number[];
  }
}
