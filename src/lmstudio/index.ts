/** LM Studio quirks in one place: typed errors, error mapping, URLs, model info. Internal to the library. */

export { connectFailureCode, droppedConnectionErrorFor, unreachableErrorFor } from "./connection-errors.js";
export {
  type ErrorContext,
  errorMessageOf,
  mapLMStudioError,
  parseContextOverflow,
} from "./error-mapping.js";
export {
  LMStudioContextOverflowError,
  LMStudioEmptyResponseError,
  LMStudioKvCacheExhaustedError,
  LMStudioModelNotFoundError,
  LMStudioNoModelLoadedError,
  LMStudioNoModelSelectedError,
  LMStudioNotEmbeddingModelError,
  LMStudioRequestError,
  LMStudioUnreachableError,
  LMStudioVisionNotSupportedError,
  type OverflowDialect,
} from "./errors.js";
export { fetchLMStudioJson, type LMStudioJsonRequest } from "./fetch-json.js";
export {
  findModelInfo,
  type LMStudioLoadedInstance,
  type LMStudioModelInfo,
  listLMStudioModels,
  loadedContextLength,
  type ModelInfoRequest,
  visionModelKeys,
} from "./model-info.js";
export { importOptionalPeer, MissingOptionalDependencyError } from "./optional-peer.js";
export { normalizeBaseUrl, sdkWebSocketUrl, serverOrigin } from "./urls.js";
