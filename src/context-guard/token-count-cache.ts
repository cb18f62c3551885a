import { createHash } from "node:crypto";

/**
 * The one cache of token counts (the guard's prompt counts, the embeddings' text counts): bounded,
 * least-recently-used, keyed by model and a hash of the text, so the same prompt or chunk (re-indexing,
 * retries, query repeats) asks the tokenizer only once and memory stays bounded by entry count rather
 * than by text size.
 */
export class TokenCountCache {
  private readonly entries = new Map<string, number>();

  constructor(private readonly maxEntries = 50_000) {}

  private static key(model: string, text: string): string {
    return `${model}\u0000${createHash("sha256").update(text).digest("base64")}`;
  }

  get(model: string, text: string): number | undefined {
    const key = TokenCountCache.key(model, text);
    const count = this.entries.get(key);
    if (count === undefined) return undefined;
    // Re-insert so the Map's insertion order doubles as recency order.
    this.entries.delete(key);
    this.entries.set(key, count);
    return count;
  }

  set(model: string, text: string, count: number): void {
    const key = TokenCountCache.key(model, text);
    this.entries.delete(key);
    this.entries.set(key, count);
    if (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
  }

  get size(): number {
    return this.entries.size;
  }
}
