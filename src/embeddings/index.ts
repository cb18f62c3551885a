export { TokenCountCache } from "../context-guard/token-count-cache.js";
export { LMStudioEmbeddings, type LMStudioEmbeddingsParams } from "./embeddings.js";
export {
  LMStudioEmbeddingDimensionError,
  LMStudioInputTooLongError,
  LMStudioMalformedEmbeddingError,
} from "./errors.js";
export { type EmbeddingContextGuard, guardTokenCounter } from "./guard-token-counter.js";
export type { LongInputPolicy, LongInputWarning } from "./long-input.js";
export type { EmbeddingTokenCounter, LoadedEmbeddingModel } from "./token-counter.js";
export {
  type EmbeddingModelResolver,
  type EmbeddingModelTokenizer,
  TokenizerEmbeddingTokenCounter,
  type TokenizerEmbeddingTokenCounterOptions,
} from "./tokenizer-token-counter.js";
