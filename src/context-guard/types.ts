import type { BaseMessage } from "@langchain/core/messages";

/**
 * The contract between the context guard and the classes that call it (chat, embeddings).
 * Chat and embeddings depend on this interface only, never on the guard's implementation.
 */

export type OverflowPolicy = "error" | "trim" | "truncate-middle";

export interface ChatClampRequest {
  model: string;
  messages: BaseMessage[];
  tools?: unknown[];
  maxTokens?: number;
  overflow: OverflowPolicy;
}

export interface ChatClampResult {
  /** The identifier to send as `model` (the loaded instance the guard chose). */
  model: string;
  messages: BaseMessage[];
  maxTokens: number;
  promptTokens: number;
  contextLength: number;
}

export interface ContextGuardLike {
  clampChat(req: ChatClampRequest, signal?: AbortSignal): Promise<ChatClampResult>;
  clampEmbedding(
    model: string,
    texts: string[],
    signal?: AbortSignal,
  ): Promise<{ model: string; contextLength: number; tokenCounts: number[] }>;
  /**
   * Forget the instance chosen for `model`, e.g. after LM Studio unloaded it (TTL, auto-evict), so the
   * next clamp loads it again at the tested context. Optional for guards that cache nothing.
   */
  invalidate?(model: string): void;
  /**
   * Waits (first in, first out) until a request of `tokens` (prompt + max tokens) fits on the instance
   * beside the guarded requests already running there; the caller releases the ticket when its
   * request has finished. Bounded: rejects with a typed error after the guard's wait limit, or with
   * the signal's reason on abort.
   */
  admit?(instance: string, tokens: number, signal?: AbortSignal): Promise<{ release(): void }>;
  /** The model's tested usable prompt size, undefined when it was never tested (never starts a test). */
  promptLimitFor?(model: string): Promise<number | undefined>;
  /** Resolves once no guarded request runs on the instance (bounded): the moment to retry after an exhaustion. */
  drained?(instance: string): Promise<void>;
}
