/**
 * What the embeddings class needs to know to never embed a silently truncated input: how many tokens
 * a text has under the embedding model's own tokenizer, and how large a context the model is loaded with.
 */
export interface EmbeddingTokenCounter {
  /**
   * The loaded instance to send requests to (a guard may load its own identifier) and the context it
   * is loaded with (not the model's declared maximum).
   */
  loadedModel(model: string, signal?: AbortSignal): Promise<LoadedEmbeddingModel>;
  /** Token counts under the model's tokenizer, one per text, in order. */
  countTokens(model: string, texts: string[], signal?: AbortSignal): Promise<number[]>;
}

export interface LoadedEmbeddingModel {
  /** The `model` value to send to /v1/embeddings. */
  identifier: string;
  contextLength: number;
}
