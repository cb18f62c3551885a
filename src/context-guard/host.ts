/**
 * The model host: everything the guard needs from LM Studio, as plain data. The SDK adapter
 * (model-host.ts) implements it over `@lmstudio/sdk`; tests implement it with a fake, so probe,
 * search and clamp never depend on the SDK's types.
 */

export type ModelType = "llm" | "embedding";

/** A model on disk, as LM Studio lists it. */
export interface DownloadedModel {
  key: string;
  type: ModelType;
  displayName: string;
  /** The context length the model declares (its metadata's maximum). */
  declaredMax: number;
  vision: boolean;
  toolUse: boolean;
  /** Engine format ("gguf", "safetensors" for MLX, ...): part of the registry key. */
  format: string;
  sizeBytes: number;
  /** File path under LM Studio's models folder; LM Studio keys per-model default settings by it. */
  path?: string;
}

/** A loaded instance with the context it really has. */
export interface LoadedInstance {
  identifier: string;
  modelKey: string;
  type: ModelType;
  contextLength: number;
}

/** Which instance a call addresses; the type picks the SDK namespace. */
export interface InstanceRef {
  identifier: string;
  type: ModelType;
}

/**
 * Load settings that change how much context fits. Only what the guard sets is listed; each one
 * is part of the registry key because the same model has different limits under different settings.
 */
export interface LoadSettings {
  flashAttention?: boolean;
  maxParallelPredictions?: number;
  useUnifiedKvCache?: boolean;
}

export interface LoadRequest {
  identifier: string;
  contextLength: number;
  type?: ModelType;
  settings?: LoadSettings;
  /** Idle seconds before LM Studio unloads the instance by itself (a safety net if we die). */
  ttlSeconds?: number;
  signal?: AbortSignal;
}

export interface LoadResult {
  identifier: string;
  requested: number;
  /** Read back with getContextLength() after the load. */
  actual: number;
  honoured: boolean;
}

/** How an LLM instance runs concurrent predictions (reference §9). */
export interface KvCacheConfig {
  /** Parallel prediction slots (`maxParallelPredictions`). */
  parallel: number;
  /** The slots share one KV cache of n_ctx tokens (`useUnifiedKvCache`). */
  unified: boolean;
}

/** LM Studio 0.4's defaults for GGUF models (reference §9.1), assumed when an instance cannot say. */
export const DEFAULT_KV_CACHE: KvCacheConfig = { parallel: 4, unified: true };

export interface ChatTurn {
  role: "system" | "user" | "assistant";
  content: string;
}

export interface RespondRequest {
  maxTokens: number;
  signal?: AbortSignal;
}

export interface RespondResult {
  content: string;
  /** What the server says it processed; undefined when the server does not report it. */
  promptTokens?: number;
  predictedTokens?: number;
  stopReason: string;
  timeToFirstTokenSec?: number;
  tokensPerSecond?: number;
}

export interface ResourceEstimate {
  passesGuardrails: boolean;
  totalBytes?: number;
}

export interface ModelHost {
  /** LM Studio's version string ("unknown" when the server does not say). */
  serverVersion(): Promise<string>;
  listDownloaded(): Promise<DownloadedModel[]>;
  listLoaded(): Promise<LoadedInstance[]>;
  /** Always a new instance (never get-or-load); the context is read back after loading. */
  load(modelKey: string, request: LoadRequest): Promise<LoadResult>;
  /** Unloads an instance this host created; instances it did not create are left alone. */
  unload(ref: InstanceRef): Promise<void>;
  /** Identifiers of the live instances this host created. */
  ownedInstances(): string[];
  applyPromptTemplate(ref: InstanceRef, turns: ChatTurn[]): Promise<string>;
  /** An embedding instance's vector for `text` (needed to test embedding models). */
  embed?(ref: InstanceRef, text: string): Promise<number[]>;
  /** An LLM instance's slots and cache mode; hosts that cannot tell leave it out (LM Studio 0.4's defaults are assumed). */
  kvCacheOf?(ref: InstanceRef): Promise<KvCacheConfig>;
  countTokens(ref: InstanceRef, text: string): Promise<number>;
  /** Greedy, seeded, chat-templated prediction. */
  respond(ref: InstanceRef, turns: ChatTurn[], request: RespondRequest): Promise<RespondResult>;
  /** LM Studio's load estimate, or undefined when the server cannot estimate. */
  estimate(
    modelKey: string,
    contextLength: number,
    settings?: LoadSettings,
  ): Promise<ResourceEstimate | undefined>;
  close(): Promise<void>;
}

/**
 * Plain kinds of host failure. Probe and search decide what each means; the raw server text is kept
 * in `detail` for the registry's log.
 */
export type HostFailureKind =
  | "guardrail"
  | "load-error"
  | "out-of-memory"
  | "crash"
  | "disconnect"
  | "timeout"
  | "aborted"
  | "not-found"
  | "overflow"
  | "other";

export class ModelHostError extends Error {
  override readonly name = "ModelHostError";
  constructor(
    readonly kind: HostFailureKind,
    readonly detail: string,
    options?: { cause?: unknown },
  ) {
    super(`${kind}: ${detail}`);
    if (options?.cause !== undefined) this.cause = options.cause;
  }
}
