/** The context guard's public surface. */
export {
  type AdmissionTicket,
  ContextGuardAdmissionTimeoutError,
  type InstanceCapacity,
} from "./admission.js";
export { fitChat, IMAGE_TOKEN_ESTIMATE, messagesToTurns } from "./clamp.js";
export {
  ContextGuard,
  type ContextGuardOptions,
  createContextGuard,
  type ModelLimits,
} from "./context-guard.js";
export type {
  ChatTurn,
  DownloadedModel,
  HostFailureKind,
  InstanceRef,
  KvCacheConfig,
  LoadedInstance,
  LoadRequest,
  LoadResult,
  LoadSettings,
  ModelHost,
  ModelType,
  ResourceEstimate,
  RespondRequest,
  RespondResult,
} from "./host.js";
export { ModelHostError } from "./host.js";
export { ModelBusyError, RegistryJournal, type SearchJournal } from "./journal.js";
export { classifyHostError, SdkModelHost, type SdkModelHostOptions, sdkVersion } from "./model-host.js";
export { ContextRegistry, type RegistryHealth, type RegistryOptions } from "./registry.js";
export { defaultRegistryPath, lmStudioHome, resolveRegistryPath } from "./registry-path.js";
export {
  type EntryIdentity,
  type EntryStatus,
  entryKey,
  type FailureKind,
  loadSettingsFingerprint,
  type ProbeRecord,
  REGISTRY_FORMAT_VERSION,
  type RegistryEntry,
  type RegistryFile,
  TEST_METHOD_VERSION,
} from "./registry-schema.js";
export { type SearchOptions, type SearchResult, type SearchState, searchUsableContext } from "./search.js";
export type { ChatClampRequest, ChatClampResult, ContextGuardLike, OverflowPolicy } from "./types.js";
export { ContextGuardUntestedModelError, type UntestedModelPolicy } from "./untested.js";
