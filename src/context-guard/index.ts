/** langchain-lmstudio/context-guard: measure each model's usable context and keep requests inside it. */

export {
  type AdmissionTicket,
  ContextGuardAdmissionTimeoutError,
  type InstanceCapacity,
} from "./admission.js";
export {
  ContextGuard,
  type ContextGuardOptions,
  createContextGuard,
  type ModelLimits,
} from "./context-guard.js";
export {
  type ChatTurn,
  type DownloadedModel,
  type HostFailureKind,
  type InstanceRef,
  type KvCacheConfig,
  type LoadedInstance,
  type LoadRequest,
  type LoadResult,
  type LoadSettings,
  type ModelHost,
  ModelHostError,
  type ModelType,
  type ResourceEstimate,
  type RespondRequest,
  type RespondResult,
} from "./host.js";
export { ModelBusyError, RegistryJournal, type SearchJournal } from "./journal.js";
export { type SdkLogger, SdkModelHost, type SdkModelHostOptions } from "./model-host.js";
export { ContextRegistry, type RegistryHealth, type RegistryOptions } from "./registry.js";
export { defaultRegistryPath, resolveRegistryPath } from "./registry-path.js";
export type {
  EntryIdentity,
  EntryStatus,
  FailureKind,
  ProbeRecord,
  RegistryEntry,
  RegistryFile,
} from "./registry-schema.js";
export { DEFAULT_SDK_DEADLINES, type SdkDeadlines } from "./sdk-lifecycle.js";
export { type SearchOptions, type SearchResult, searchUsableContext } from "./search.js";
export type { ChatClampRequest, ChatClampResult, ContextGuardLike, OverflowPolicy } from "./types.js";
export { ContextGuardUntestedModelError, type UntestedModelPolicy } from "./untested.js";
