import type { InferenceBackend, ModelEngine } from "./backend.js";
import { type CatalogModel, DEFAULT_MODELS, resolveModelSpec } from "./catalog.js";
import {
  InstanceKvPool,
  type KvCacheSettings,
  type KvPoolStats,
  type PredictionTiming,
  resolveKvCacheSettings,
} from "./kv-pool.js";
import { type LlmLoadSettings, resolveLoadSettings } from "./load-config.js";
import { guardrailRefusal } from "./messages.js";
import { savedContextLength } from "./model-defaults.js";
import type { LMStudioVersionDialect, LoadedInstanceView, SimulatorOptions } from "./types.js";

export interface LoadedInstance {
  identifier: string;
  model: CatalogModel;
  contextLength: number;
  jit: boolean;
  instanceReference: string;
  ttlMs: number | null;
  lastUsedTime: number | null;
  /** When it finished loading (simulator clock): the idle TTL counts from here until first use. */
  loadedAt: number;
  /** Load settings besides the context (eval batch, parallel, flash attention, …); {} for embeddings. */
  loadSettings: LlmLoadSettings;
  /** Tokenizer, generation and embeddings of this instance. */
  engine: ModelEngine;
  /** Prediction slots and KV cache (LLMs; embedding models get one slot that never fills). */
  kv: InstanceKvPool;
}

export interface ResolvedOptions {
  host: string;
  port: number;
  dialect: LMStudioVersionDialect;
  jit: boolean;
  jitContextLength: number;
  apiToken: string | undefined;
  loadTimeScale: number;
  separateReasoningContent: boolean;
  /** How long a socket may stay unauthenticated (LM Studio: 10 s). */
  authTimeoutMs: number;
  /** "namespace/endpoint" names this server lacks (an older LM Studio). */
  sdkEndpointsMissing: ReadonlySet<string>;
  timing: PredictionTiming;
  lmStudioHome: string | undefined;
}

export type LoadFailure =
  | { code: "pathNotFound"; message: string; path: string; available: string[] }
  | { code: "identifierInUse"; message: string; identifier: string }
  | { code: "guardrail"; message: string; bytes: number }
  /** The inference engine could not load the model at this context (a real allocation failure). */
  | { code: "engineFailure"; message: string };

export interface LoadPlan {
  model: CatalogModel;
  identifier: string;
  contextLength: number;
  ttlMs: number | null;
  jit: boolean;
  loadSettings: LlmLoadSettings;
  kvCache: KvCacheSettings;
}

/** Bytes of KV cache per context token: a round figure so estimates look like a 7B model's. */
const CONTEXT_BYTES_PER_TOKEN = 131_072;
/** LM Studio's default idle TTL for JIT-loaded models (60 min). */
const JIT_TTL_MS = 60 * 60 * 1000;

/** Catalog + loaded instances: the one source of truth both APIs read and change. */
export class SimulatorState {
  readonly catalog = new Map<string, CatalogModel>();
  instances: LoadedInstance[] = [];
  /** KV-pool counts per model key, over all its instances, loaded or since unloaded. */
  readonly kvTotals = new Map<string, KvPoolStats>();
  private referenceCounter = 0;
  /** Every model load and every JIT auto-eviction since start: what a caller's request order costs. */
  readonly counts = { loads: 0, jitEvictions: 0 };
  /** Engines of unloaded instances still freeing their memory. */
  private readonly releasing = new Set<Promise<void>>();
  /** Added to the wall clock by `advanceClock`, so tests can make idle TTLs expire at once. */
  private clockOffsetMs = 0;

  constructor(
    readonly options: ResolvedOptions,
    specs = DEFAULT_MODELS,
    /** Picks the engine behind each model (scripted unless the simulator was given another). */
    private readonly backendFor: (model: CatalogModel) => InferenceBackend,
  ) {
    for (const spec of specs) this.catalog.set(spec.key, resolveModelSpec(spec));
  }

  static resolveOptions(options: SimulatorOptions): ResolvedOptions {
    return {
      host: options.host ?? "127.0.0.1",
      port: options.port ?? 0,
      dialect: options.lmStudioVersion ?? "0.4.x",
      jit: options.jit ?? true,
      jitContextLength: options.jitContextLength ?? 4096,
      apiToken: options.apiToken,
      loadTimeScale: options.loadTimeScale ?? 1,
      separateReasoningContent: options.separateReasoningContent ?? false,
      authTimeoutMs: options.authTimeoutMs ?? 10_000,
      sdkEndpointsMissing: new Set(options.sdkEndpointsMissing ?? []),
      timing: {
        prefillMsPer1kTokens: options.prefillMsPer1kTokens ?? 0,
        decodeMsPerToken: options.decodeMsPerToken ?? 0,
      },
      lmStudioHome: options.lmStudioHome,
    };
  }

  /** The simulator's clock: wall time plus whatever tests advanced it by. */
  now(): number {
    return Date.now() + this.clockOffsetMs;
  }

  /** Moves the clock forward and unloads what expired; returns the unloaded instances. */
  advanceClock(ms: number): LoadedInstance[] {
    this.clockOffsetMs += ms;
    return this.expireIdle();
  }

  /** Idle TTL: an instance unused for `ttlMs` (since its last use, else its load) is unloaded. */
  expireIdle(): LoadedInstance[] {
    const now = this.now();
    const expired = this.instances.filter(
      (i) => i.ttlMs !== null && now - (i.lastUsedTime ?? i.loadedAt) >= i.ttlMs,
    );
    for (const instance of expired) this.unload(instance.identifier);
    return expired;
  }

  /** The overflow dialect for a model: MLX models always speak MLX's. */
  dialectFor(model: CatalogModel): LMStudioVersionDialect {
    return model.format === "mlx" ? "mlx" : this.options.dialect;
  }

  findInstance(identifier: string): LoadedInstance | undefined {
    return this.instances.find((i) => i.identifier === identifier);
  }

  findByReference(reference: string): LoadedInstance | undefined {
    return this.instances.find((i) => i.instanceReference === reference);
  }

  estimateBytes(model: CatalogModel, contextLength: number): { modelBytes: number; contextBytes: number } {
    return { modelBytes: model.sizeBytes, contextBytes: contextLength * CONTEXT_BYTES_PER_TOKEN };
  }

  /**
   * The context a load gets: auto-fit wins, else the request, else the model's saved per-model
   * default, else the default (capped at the model's max).
   */
  effectiveLoadContext(model: CatalogModel, requested: number | undefined): number {
    if (model.autoFitTo !== undefined) return model.autoFitTo;
    return (
      requested ??
      savedContextLength(this.options.lmStudioHome, model) ??
      Math.min(this.options.jitContextLength, model.maxContextLength)
    );
  }

  private freeIdentifier(key: string): string {
    if (!this.findInstance(key)) return key;
    for (let n = 2; ; n++) if (!this.findInstance(`${key}:${n}`)) return `${key}:${n}`;
  }

  /** Checks a load request without changing anything. */
  planLoad(
    key: string,
    opts: {
      identifier?: string;
      contextLength?: number;
      ttlMs?: number;
      jit?: boolean;
      settings?: LlmLoadSettings;
      parallel?: number;
      unifiedKvCache?: boolean;
    } = {},
  ): LoadPlan | LoadFailure {
    const model = this.catalog.get(key);
    if (!model) {
      const available = [...this.catalog.keys()];
      return {
        code: "pathNotFound",
        message: `Cannot find a model with path "${key}"`,
        path: key,
        available,
      };
    }
    if (opts.identifier !== undefined && this.findInstance(opts.identifier)) {
      return {
        code: "identifierInUse",
        message: `A model with identifier "${opts.identifier}" is already loaded.`,
        identifier: opts.identifier,
      };
    }
    const contextLength = this.effectiveLoadContext(model, opts.contextLength);
    if (contextLength > model.loadLimit) {
      const { modelBytes, contextBytes } = this.estimateBytes(model, contextLength);
      return {
        code: "guardrail",
        message: guardrailRefusal(modelBytes + contextBytes),
        bytes: modelBytes + contextBytes,
      };
    }
    const jit = opts.jit ?? false;
    return {
      model,
      identifier: opts.identifier ?? this.freeIdentifier(key),
      contextLength,
      ttlMs: opts.ttlMs ?? (jit ? JIT_TTL_MS : null),
      jit,
      loadSettings: resolveLoadSettings(model, opts.settings),
      kvCache: resolveKvCacheSettings(model.format, this.options.dialect === "0.3.x", {
        ...(opts.parallel !== undefined ? { parallel: opts.parallel } : {}),
        ...(opts.unifiedKvCache !== undefined ? { unified: opts.unifiedKvCache } : {}),
      }),
    };
  }

  /**
   * Opens the model's engine at the planned context, then adds the instance; an identifier taken
   * meanwhile gets the next free suffix. A failure when the engine cannot load it.
   */
  async commitLoad(plan: LoadPlan): Promise<LoadedInstance | LoadFailure> {
    // Unloaded models free their memory before the next load allocates (as in LM Studio), so a load
    // never fails only because an unload is still in flight.
    await Promise.all(this.releasing);
    const engine = await this.backendFor(plan.model).open(plan.model, plan.contextLength, plan.kvCache);
    if ("code" in engine) return engine;
    const identifier = this.findInstance(plan.identifier)
      ? this.freeIdentifier(plan.identifier)
      : plan.identifier;
    this.referenceCounter += 1;
    const instance: LoadedInstance = {
      identifier,
      model: plan.model,
      contextLength: plan.contextLength,
      jit: plan.jit,
      instanceReference: `sim-instance-${this.referenceCounter}`,
      ttlMs: plan.ttlMs,
      lastUsedTime: null,
      loadedAt: this.now(),
      loadSettings: plan.loadSettings,
      engine,
      kv: new InstanceKvPool(plan.contextLength, plan.kvCache, (delta) => {
        const totals = this.kvTotals.get(plan.model.key) ?? {
          promptTokens: 0,
          processedPromptTokens: 0,
          exhaustedPredictions: 0,
        };
        this.kvTotals.set(plan.model.key, {
          promptTokens: totals.promptTokens + delta.promptTokens,
          processedPromptTokens: totals.processedPromptTokens + delta.processedPromptTokens,
          exhaustedPredictions: totals.exhaustedPredictions + delta.exhaustedPredictions,
        });
      }),
    };
    this.instances.push(instance);
    this.counts.loads += 1;
    return instance;
  }

  /** Auto-evict: loading a JIT model unloads the previous JIT models (non-JIT loads are kept). */
  evictOtherJitModels(): LoadedInstance[] {
    const evicted = this.instances.filter((i) => i.jit);
    this.instances = this.instances.filter((i) => !i.jit);
    this.counts.jitEvictions += evicted.length;
    for (const instance of evicted) this.release(instance);
    return evicted;
  }

  unload(identifier: string): LoadedInstance | undefined {
    const instance = this.findInstance(identifier);
    if (instance) {
      this.instances = this.instances.filter((i) => i !== instance);
      this.release(instance);
    }
    return instance;
  }

  /** Resolves when every unloaded instance's engine has finished freeing its memory. */
  async released(): Promise<void> {
    await Promise.all(this.releasing);
  }

  /** Unloading answers at once, as LM Studio's does; the engine frees its memory in the background. */
  private release(instance: LoadedInstance): void {
    const done = instance.engine.dispose().catch(() => undefined);
    this.releasing.add(done);
    void done.then(() => this.releasing.delete(done));
  }

  touch(instance: LoadedInstance): void {
    instance.lastUsedTime = this.now();
  }

  loadTimeMs(model: CatalogModel): number {
    return model.loadTimeMs * this.options.loadTimeScale;
  }

  views(instances = this.instances): LoadedInstanceView[] {
    return instances.map((i) => ({
      identifier: i.identifier,
      modelKey: i.model.key,
      contextLength: i.contextLength,
      jit: i.jit,
    }));
  }
}

export function isLoadFailure<T extends LoadPlan | LoadedInstance>(
  value: T | LoadFailure,
): value is LoadFailure {
  return "code" in value;
}

export function sleep(ms: number): Promise<void> {
  return ms > 0 ? new Promise((resolve) => setTimeout(resolve, ms)) : Promise.resolve();
}
