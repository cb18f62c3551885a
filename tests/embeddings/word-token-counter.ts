import type { EmbeddingTokenCounter } from "../../src/index.js";

/** A stand-in tokenizer for unit tests: one token per whitespace-separated word. */
export function wordTokenCounter(contextLength: number, identifier?: string) {
  const counted: string[] = [];
  const counter: EmbeddingTokenCounter = {
    async loadedModel(model) {
      return { identifier: identifier ?? model, contextLength };
    },
    async countTokens(_model, texts) {
      counted.push(...texts);
      return texts.map((text) => text.split(/\s+/).filter(Boolean).length);
    },
  };
  return { counter, counted };
}
