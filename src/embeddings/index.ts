export { LMStudioEmbeddings, type LMStudioEmbeddingsParams } from "./embeddings.js";
export {
  LMStudioEmbeddingDimensionError,
  LMStudioInputTooLongError,
  LMStudioMalformedEmbeddingError,
} from "./errors.js";
export { type EmbeddingContextGuard, guardTokenCounter } from "./guard-token-counter.js";
export type { LongInputPolicy, LongInputWarning } from "./long-input.js";
export {
  type EmbeddingModelResolver,
  type EmbeddingModelTokenizer,
  SdkEmbeddingTokenCounter,
  type SdkEmbeddingTokenCounterOptions,
} from "./sdk-token-counter.js";
export { TokenCountCache } from "./token-count-cache.js";
export type { EmbeddingTokenCounter, LoadedEmbeddingModel } from "./token-counter.js";
