/** Public types of the LM Studio simulator (see DESIGN.md "The simulator (src/testing) — contract"). */

export type LMStudioVersionDialect = "0.3.x" | "0.4.x" | "0.4.21" | "mlx";

export interface SimulatedModelSpec {
  key: string;
  type: "llm" | "embedding";
  /** Declared maximum context. */
  maxContextLength: number;
  /** Largest context that loads; above it loading fails with the guardrail error (default maxContextLength). */
  loadLimit?: number;
  /** Largest prompt (tokens) at which recall still works (default loadLimit). */
  effectiveContext?: number;
  /** Largest prompt (tokens) that processes; above it the model "crashes" (default loadLimit). */
  fillLimit?: number;
  /** When set, every load silently gets this context instead of the requested one (0.4 auto-fit). */
  autoFitTo?: number;
  vision?: boolean;
  trainedForToolUse?: boolean;
  /** Answers start with <think>…</think>. */
  reasoning?: boolean;
  sizeBytes?: number;
  format?: "gguf" | "mlx";
  loadTimeMs?: number;
  /** Embedding models only (default 768). */
  embeddingDimensions?: number;
  displayName?: string;
  publisher?: string;
  architecture?: string;
  quantization?: string;
  /** The publisher's parameter label ("7B"); not derived from the file size. Absent by default. */
  paramsString?: string;
  /** Mixture-of-experts LLMs: experts used per token by default (reported as `num_experts`). */
  experts?: number;
  /**
   * Where a reasoning model's reasoning goes on /v1 when it is separated: "reasoning_content"
   * (DeepSeek-R1 style, only with `separateReasoningContent`, default) or "reasoning" (gpt-oss,
   * LM Studio 0.3.23+: always separate, `message.reasoning` / `delta.reasoning`).
   */
  reasoningField?: "reasoning_content" | "reasoning";
  /**
   * A GGUF file that backs this model when the simulator runs with `backend: "llama.cpp"` (e.g. one
   * written by `writeTinyLlamaGguf`). Ignored by the scripted backend.
   */
  gguf?: string;
}

interface FaultTargeting {
  /** Prefix of the request path (HTTP path, or "/<namespace>/<endpoint>" for the SDK socket). */
  path?: string;
  /** How many times the fault fires (default 1; Infinity allowed). */
  times?: number;
  /** Chance (0..1) that a matching request triggers it; drawn from a seeded generator. */
  probability?: number;
}

export type Fault = FaultTargeting &
  (
    | { kind: "latency"; ms: number }
    | { kind: "status"; status: 500 | 503; body?: unknown }
    | { kind: "reset-mid-stream"; afterChunks: number }
    | { kind: "empty-stream" }
    | { kind: "ws-drop-mid-load" }
    | { kind: "evict"; identifier: string }
    /** An SDK WebSocket (path "/<namespace>") completes its handshake, then never answers anything. */
    | { kind: "ws-silent" }
    /** An SDK WebSocket upgrade request (path "/<namespace>") is accepted over TCP and never answered. */
    | { kind: "ws-no-handshake" }
  );

export interface SimulatorOptions {
  /** 0 = ephemeral (default 0). */
  port?: number;
  /** Default "127.0.0.1". */
  host?: string;
  models?: SimulatedModelSpec[];
  /** Overflow/error dialect (default "0.4.x"). */
  lmStudioVersion?: LMStudioVersionDialect;
  /** JIT loading on /v1 (default true); false → "No models loaded" errors. */
  jit?: boolean;
  /** Context given to JIT loads and to loads that do not ask for one (default 4096). */
  jitContextLength?: number;
  /** When set, HTTP needs "Authorization: Bearer <token>" and the SDK handshake must match. */
  apiToken?: string;
  /** `parallel` and `unifiedKvCache` are the load config's `numParallelSessions` / `useUnifiedKvCache`. */
  preload?: Array<{
    key: string;
    identifier?: string;
    contextLength?: number;
    parallel?: number;
    unifiedKvCache?: boolean;
  }>;
  /** Multiplies simulated load times (default 1; tests use 0). */
  loadTimeScale?: number;
  /**
   * Mirrors LM Studio's Developer setting that moves reasoning into `reasoning_content`
   * instead of inline <think> tags (default false).
   */
  separateReasoningContent?: boolean;
  /**
   * "scripted" (default): rule-based answers (DESIGN.md). "llama.cpp": models with a `gguf` file run
   * on a real llama.cpp engine through node-llama-cpp (a devDependency of this project, never
   * required by library users; install it to use this backend): real context allocation on load,
   * real tokenizer, real decoding and embeddings. Catalog, error dialects and faults are unchanged.
   */
  backend?: "scripted" | "llama.cpp";
  /** How long an SDK socket may stay unauthenticated before LM Studio gives up (default 10 000 ms, as LM Studio). */
  authTimeoutMs?: number;
  /**
   * SDK endpoints this server lacks, as "namespace/endpoint" (e.g. "llm/estimateModelUsage"), to act
   * like an LM Studio older than the SDK: calls to them get a `communicationWarning` and no reply.
   */
  sdkEndpointsMissing?: string[];
  /**
   * Simulated prompt-processing time per 1000 prompt tokens actually processed (default 0). With this
   * and `decodeMsPerToken`, concurrent predictions overlap and share the KV cache as on a real server.
   */
  prefillMsPer1kTokens?: number;
  /** Simulated time per generated token of the scripted engine (default 0: answers are instant). */
  decodeMsPerToken?: number;
  /**
   * An LM Studio home folder: loads that name no context (JIT, SDK loads without contextLength,
   * /api/v1 loads without context_length) use the per-model default saved there under
   * `.internal/user-concrete-model-default-config/<model path>.json`, as LM Studio does.
   */
  lmStudioHome?: string;
  /** CPU threads per llama.cpp context (default 1; node-llama-cpp's own default oversubscribes small machines). */
  llamaThreads?: number;
}

export interface RecordedRequest {
  method: string;
  path: string;
  /** Parsed JSON when the body was JSON, else the raw text (undefined for an empty body). */
  body: unknown;
}

export interface LoadedInstanceView {
  identifier: string;
  modelKey: string;
  contextLength: number;
  jit: boolean;
}

/** One instance's prediction slots and KV cache, as the simulator runs them. */
export interface KvCacheView {
  /** Prediction slots (`numParallelSessions`). */
  parallel: number;
  /** `useUnifiedKvCache`; undefined for MLX models. */
  unifiedKvCache: boolean | undefined;
  /** Prompt tokens of every prediction started on this instance. */
  promptTokens: number;
  /** Of those, the ones processed (the rest were a slot's cached prefix). */
  processedPromptTokens: number;
  /** Predictions failed with "Context size has been exceeded." */
  exhaustedPredictions: number;
}

export interface RunningSimulator {
  /** http://HOST:PORT/v1 */
  baseUrl: string;
  /** ws://HOST:PORT */
  wsUrl: string;
  port: number;
  requests: RecordedRequest[];
  injectFault(fault: Fault): void;
  clearFaults(): void;
  loaded(): LoadedInstanceView[];
  /**
   * Moves the simulator's clock forward (idle TTLs count on it) and unloads every instance whose
   * TTL expired; returns those. Without it, TTLs expire in real time.
   */
  advanceClock(ms: number): LoadedInstanceView[];
  /** Slots, cache mode and token counts of a loaded instance (undefined when not loaded). */
  kvCache(identifier: string): KvCacheView | undefined;
  /** Model loads and JIT auto-evictions since the simulator started. */
  loadCounts(): { loads: number; jitEvictions: number };
  /**
   * The same counts as `kvCache` summed over every instance of a model, loaded or since unloaded: e.g. the
   * prompt tokens a context search really prefilled (the rest came from a slot's cached prefix).
   */
  kvTotals(modelKey: string): Omit<KvCacheView, "parallel" | "unifiedKvCache">;
  close(): Promise<void>;
}
