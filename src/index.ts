/**
 * langchain-lmstudio: the chat model, the embeddings and the typed errors they throw.
 * Vision helpers, the context guard, the provider factories and the simulator have their own entry
 * points (`langchain-lmstudio/vision`, `/context-guard`, `/config`, `/testing`), so importing this one
 * loads neither the LM Studio SDK nor any optional peer.
 */

export { ChatLMStudio } from "./chat/chat-model.js";
export type { StructuredOutputMethod } from "./chat/structured-output.js";
export type { ChatLMStudioCallOptions, ChatLMStudioFields, LMStudioSamplingOptions } from "./chat/types.js";
export { ContextGuardAdmissionTimeoutError } from "./context-guard/admission.js";
export { type HostFailureKind, ModelHostError } from "./context-guard/host.js";
export type {
  ChatClampRequest,
  ChatClampResult,
  ContextGuardLike,
  OverflowPolicy,
} from "./context-guard/types.js";
export { ContextGuardUntestedModelError, type UntestedModelPolicy } from "./context-guard/untested.js";
export { LMStudioEmbeddings, type LMStudioEmbeddingsParams } from "./embeddings/embeddings.js";
export {
  LMStudioEmbeddingDimensionError,
  LMStudioInputTooLongError,
  LMStudioMalformedEmbeddingError,
} from "./embeddings/errors.js";
export type { EmbeddingContextGuard } from "./embeddings/guard-token-counter.js";
export type { LongInputPolicy, LongInputWarning } from "./embeddings/long-input.js";
export type { EmbeddingTokenCounter, LoadedEmbeddingModel } from "./embeddings/token-counter.js";
export { InvalidEnvironmentError, type LMStudioSettings } from "./env/env.js";
export {
  LMStudioContextOverflowError,
  LMStudioEmptyResponseError,
  LMStudioInvalidApiKeyError,
  LMStudioKvCacheExhaustedError,
  LMStudioModelNotFoundError,
  LMStudioNoModelLoadedError,
  LMStudioNoModelSelectedError,
  LMStudioNotEmbeddingModelError,
  LMStudioRequestError,
  LMStudioTimeoutError,
  LMStudioUnreachableError,
  LMStudioVisionNotSupportedError,
  type OverflowDialect,
} from "./lmstudio/errors.js";
export { MissingOptionalDependencyError } from "./lmstudio/optional-peer.js";
export { LMStudioSdkUnavailableError } from "./lmstudio/sdk-endpoint.js";
export { VERSION } from "./version.js";
export { type ImageInputProblem, LMStudioImageInputError } from "./vision/errors.js";
