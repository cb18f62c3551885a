import type { BaseMessage } from "@langchain/core/messages";
import { LMSTUDIO_DEFAULT_BASE_URL, lmStudioSettings } from "../env/env.js";
import { LMStudioModelNotFoundError } from "../lmstudio/errors.js";
import { guardInstanceId } from "../lmstudio/guard-instances.js";
import { sdkUnavailableErrorFor } from "../lmstudio/sdk-endpoint.js";
import { type AdmissionTicket, type InstanceBudget, instanceBudget } from "./admission.js";
import { fitChat, imageTokens, messagesToTurns } from "./clamp.js";
import { searchEmbeddingInput } from "./embedding-search.js";
import {
  DEFAULT_KV_CACHE,
  type DownloadedModel,
  type InstanceRef,
  type KvCacheConfig,
  type LoadRequest,
  type LoadResult,
  type LoadSettings,
  type ModelHost,
  ModelHostError,
  type ModelType,
} from "./host.js";
import { RegistryJournal } from "./journal.js";
import { SdkModelHost } from "./model-host.js";
import { ContextRegistry } from "./registry.js";
import { resolveRegistryPath } from "./registry-path.js";
import {
  type EntryIdentity,
  loadSettingsFingerprint,
  type RegistryEntry,
  TEST_METHOD_VERSION,
} from "./registry-schema.js";
import type { SdkDeadlines } from "./sdk-lifecycle.js";
import { type SearchOptions, type SearchResult, searchUsableContext } from "./search.js";
import { TokenCountCache } from "./token-count-cache.js";
import { typedHostError } from "./typed-host-error.js";
import type { ChatClampRequest, ChatClampResult, ContextGuardLike } from "./types.js";
import { ContextGuardUntestedModelError, type UntestedModelPolicy } from "./untested.js";

/**
 * The guard: before each request, make sure the model runs at the context it was tested at, count
 * the prompt exactly with the model's own template and tokenizer, and fit the request into it.
 * Warm calls cost a hash and two map look-ups: instances and token counts are cached.
 */

export interface ContextGuardOptions {
  /** OpenAI-compatible base URL (…/v1); default from LMSTUDIO_BASE_URL via lmStudioSettings(). */
  baseUrl?: string;
  apiKey?: string;
  /** Registry file; default LMSTUDIO_GUARD_REGISTRY, else the documented default (registry-path.ts). */
  registryPath?: string;
  /**
   * What to do with a model that has no tested limits (README "Untested models"): "fail" (default) throws
   * ContextGuardUntestedModelError naming the command that measures it; "measure" runs the context search
   * on first use, reporting each probe through onWarning; "declared" uses the declared maximum with a warning.
   */
  untested?: UntestedModelPolicy;
  /** The same as `untested: "measure"` (kept for existing callers). */
  testOnFirstUse?: boolean;
  /** Receives warnings and first-use measuring progress (default console.warn, so they reach the user). */
  onWarning?: (message: string) => void;
  /** Load settings the guard loads with (part of the registry key). */
  loadSettings?: LoadSettings;
  /** Options for searches started by testOnFirstUse or test(). */
  search?: Omit<SearchOptions, "journal" | "signal">;
  /** Fewest answer tokens worth sending a request for (default 16). */
  minOutputTokens?: number;
  /**
   * Longest wait for room on a busy instance before a request fails with
   * ContextGuardAdmissionTimeoutError (ms, default 300 000).
   */
  admissionTimeoutMs?: number;
  /** How long a chosen instance is trusted before it is looked up again (ms, default 10 000). */
  instanceCheckMs?: number;
  /** Deadlines for the guard's SDK calls (connect 10 s, calls 60 s, loads 10 min by default). */
  sdkDeadlines?: SdkDeadlines;
  /** A host other than the SDK (tests use a fake). */
  host?: ModelHost;
  registry?: ContextRegistry;
}

export interface ModelLimits {
  modelKey: string;
  type: ModelType;
  source: "tested" | "declared";
  declaredMax: number;
  /** The context the guard loads the model at. */
  contextLength: number;
  /** Longest prompt admitted. */
  promptLimit: number;
  entry?: RegistryEntry;
}

interface Prepared {
  limits: ModelLimits;
  ref: InstanceRef;
  /** The instance's real context (≤ limits.contextLength). */
  contextLength: number;
  checkedAt: number;
}

const MAX_CACHED_COUNTS = 2000;

function sdkUnavailable(error: unknown, baseUrl: string) {
  return sdkUnavailableErrorFor(
    error,
    baseUrl,
    "The context guard",
    "turn contextGuard off for this server (requests are then not clamped to a tested context).",
  );
}

export class ContextGuard implements ContextGuardLike {
  readonly host: ModelHost;
  readonly registry: ContextRegistry;
  private readonly options: ContextGuardOptions;
  /** For error messages: where the guard expects LM Studio. */
  private readonly baseUrl: string;
  private models: Map<string, DownloadedModel> | undefined;
  private version: Promise<string> | undefined;
  private readonly prepared = new Map<string, Prepared>();
  private readonly preparing = new Map<string, Promise<Prepared>>();
  private readonly counts = new TokenCountCache(MAX_CACHED_COUNTS);
  private readonly warned = new Set<string>();
  /** The process-wide budgets of the instances this guard chose, by identifier. */
  private readonly budgets = new Map<string, InstanceBudget>();

  constructor(options: ContextGuardOptions = {}) {
    this.options = options;
    const settings = options.host && options.registry ? undefined : lmStudioSettings();
    this.baseUrl = options.baseUrl ?? settings?.baseUrl ?? LMSTUDIO_DEFAULT_BASE_URL;
    this.host =
      options.host ??
      new SdkModelHost({
        baseUrl: this.baseUrl,
        apiKey: options.apiKey ?? settings?.apiKey,
        ...(options.sdkDeadlines ? { deadlines: options.sdkDeadlines } : {}),
      });
    this.registry =
      options.registry ??
      new ContextRegistry(resolveRegistryPath(options.registryPath, settings?.guardRegistryPath), {
        ...(options.onWarning ? { onWarning: options.onWarning } : {}),
      });
  }

  private warnOnce(key: string, message: string): void {
    if (this.warned.has(key)) return;
    this.warned.add(key);
    this.warn(message);
  }

  private warn(message: string): void {
    (this.options.onWarning ?? console.warn)(message);
  }

  private async downloaded(model: string, refresh = false): Promise<DownloadedModel | undefined> {
    if (this.models === undefined || refresh) {
      this.models = new Map((await this.host.listDownloaded()).map((m) => [m.key, m]));
    }
    return this.models.get(model);
  }

  /** The registry identity of a model under this guard's load settings and the server's version. */
  async identityOf(model: DownloadedModel): Promise<EntryIdentity> {
    this.version ??= this.host.serverVersion();
    return {
      modelKey: model.key,
      format: model.format,
      lmStudioVersion: await this.version,
      loadSettings: loadSettingsFingerprint(this.options.loadSettings),
    };
  }

  /** Resolves a model key, or the identifier of a loaded instance, to its downloaded model. */
  private async resolveModel(model: string): Promise<DownloadedModel> {
    const direct = (await this.downloaded(model)) ?? (await this.downloaded(model, true));
    if (direct) return direct;
    const instance = (await this.host.listLoaded()).find((i) => i.identifier === model);
    const viaInstance = instance ? await this.downloaded(instance.modelKey) : undefined;
    if (viaInstance) return viaInstance;
    throw new LMStudioModelNotFoundError(model, [...(this.models?.keys() ?? [])]);
  }

  /** The limits the guard applies to a model: tested if the registry has them, else declared. */
  /** The tested usable prompt size of a model (for `profile.maxInputTokens`); undefined when untested. */
  async promptLimitFor(model: string): Promise<number | undefined> {
    const limits = await this.limitsFor(model, undefined, { measure: false });
    return limits.source === "tested" ? limits.promptLimit : undefined;
  }

  async limitsFor(
    model: string,
    signal?: AbortSignal,
    options: { measure?: boolean } = {},
  ): Promise<ModelLimits> {
    const info = await this.resolveModel(model);
    const identity = await this.identityOf(info);
    let entry = await this.registry.find(identity);
    const usable = (e: RegistryEntry | undefined) =>
      e?.testedMax !== undefined && e.methodVersion === TEST_METHOD_VERSION ? e : undefined;
    const policy = this.options.untested ?? (this.options.testOnFirstUse ? "measure" : "fail");
    if (!usable(entry) && policy === "measure" && options.measure !== false) {
      this.warn(
        `"${info.key}" has no tested context on LM Studio ${identity.lmStudioVersion}: measuring it now ` +
          "(several loads and long prompts; this can take minutes on large contexts).",
      );
      await this.test(info.key, {
        ...(signal ? { signal } : {}),
        onProbe: (record, state) =>
          this.warn(
            `  "${info.key}" probe ${state.loads}/${state.maxLoads} at ${record.contextLength} tokens: ` +
              `${record.passed ? "passed" : `failed (${record.failureKind ?? "error"})`}`,
          ),
      });
      entry = await this.registry.find(identity);
    }
    const tested = usable(entry);
    if (tested?.testedMax !== undefined) {
      // A registry file is editable by hand: nothing in it may lift a limit above what the model declares.
      const contextLength = Math.min(tested.testedMax, info.declaredMax);
      return {
        modelKey: info.key,
        type: info.type,
        source: "tested",
        declaredMax: info.declaredMax,
        contextLength,
        promptLimit: Math.min(tested.usablePromptTokens ?? contextLength, contextLength),
        entry: tested,
      };
    }
    return {
      modelKey: info.key,
      type: info.type,
      source: "declared",
      declaredMax: info.declaredMax,
      contextLength: info.declaredMax,
      promptLimit: info.declaredMax,
      ...(entry ? { entry } : {}),
    };
  }

  /**
   * A request is about to run on a model with no tested limits (and the policy did not measure it):
   * "fail" refuses LLMs with the command to run; otherwise the declared maximum is used, with a warning
   * that reaches the user (console.warn unless onWarning is given). Never silent.
   */
  private async untestedInUse(limits: ModelLimits): Promise<void> {
    const version = (await this.version) ?? "unknown";
    const policy = this.options.untested ?? (this.options.testOnFirstUse ? "measure" : "fail");
    if (policy === "fail" && limits.type === "llm")
      throw new ContextGuardUntestedModelError(limits.modelKey, version, limits.declaredMax);
    this.warnOnce(
      `untested:${limits.modelKey}`,
      `"${limits.modelKey}" has no tested context on LM Studio ${version}; using its declared ${limits.declaredMax} ` +
        "tokens, which it may not really handle. Run `langchain-lmstudio test " +
        `${limits.modelKey}\`${limits.type === "llm" ? ' or set untested: "measure"' : ""}.`,
    );
  }

  /** Runs the context search for one model and records it in the registry. */
  async test(modelKey: string, options: Omit<SearchOptions, "journal"> = {}): Promise<SearchResult> {
    const info = await this.resolveModel(modelKey);
    const identity = await this.identityOf(info);
    if (info.type === "embedding") {
      return searchEmbeddingInput(
        this.host,
        { key: info.key, declaredMax: info.declaredMax, sizeBytes: info.sizeBytes },
        {
          ...(options.maxLoads !== undefined ? { maxLoads: options.maxLoads } : {}),
          ...(options.seed !== undefined ? { seed: options.seed } : {}),
          ...(options.signal ? { signal: options.signal } : {}),
          ...(options.onProbe ? { onProbe: options.onProbe } : {}),
          journal: new RegistryJournal(this.registry, identity),
        },
      ).finally(() => this.invalidate(info.key));
    }
    const result = await searchUsableContext(
      this.host,
      { key: info.key, declaredMax: info.declaredMax, sizeBytes: info.sizeBytes },
      {
        ...this.options.search,
        ...options,
        probe: {
          ...this.options.search?.probe,
          ...options.probe,
          ...(this.options.loadSettings ? { loadSettings: this.options.loadSettings } : {}),
        },
        journal: new RegistryJournal(this.registry, identity),
      },
    );
    this.invalidate(info.key);
    return result;
  }

  /** Forgets the cached instance for a model (e.g. after LM Studio evicted it). */
  invalidate(model?: string): void {
    if (model === undefined) this.prepared.clear();
    else this.prepared.delete(model);
  }

  private async prepare(model: string, type: ModelType, signal?: AbortSignal): Promise<Prepared> {
    const cached = this.prepared.get(model);
    const checkMs = this.options.instanceCheckMs ?? 10_000;
    if (cached && performance.now() - cached.checkedAt < checkMs) return cached;
    const pending = this.preparing.get(model);
    if (pending) return pending;
    const work = this.doPrepare(model, type, cached, signal)
      .catch((error: unknown) => {
        // A stopped server should read the same through the guard as without it: named, with the fix.
        throw sdkUnavailable(error, this.baseUrl) ?? typedHostError(error, this.baseUrl);
      })
      .finally(() => this.preparing.delete(model));
    this.preparing.set(model, work);
    return work;
  }

  private async doPrepare(
    model: string,
    type: ModelType,
    cached: Prepared | undefined,
    signal?: AbortSignal,
  ): Promise<Prepared> {
    const limits = cached?.limits ?? (await this.limitsFor(model, signal));
    if (limits.source === "declared") await this.untestedInUse(limits);
    if (limits.type !== type) {
      throw new Error(
        `"${model}" is ${limits.type === "llm" ? "an LLM" : "an embedding model"}, not ${type === "llm" ? "an LLM" : "an embedding model"}`,
      );
    }
    const loaded = (await this.host.listLoaded()).filter(
      (i) => i.modelKey === limits.modelKey && i.type === type,
    );
    // An instance at exactly the tested context is what we want; a JIT load (4096) or a larger
    // one than tested is not, so the guard loads its own at the tested size.
    const exact =
      loaded.find((i) => cached && i.identifier === cached.ref.identifier) ??
      loaded.find((i) => i.contextLength === limits.contextLength);
    let ref: InstanceRef;
    let contextLength: number;
    if (exact) {
      ref = { identifier: exact.identifier, type };
      contextLength = Math.min(exact.contextLength, limits.contextLength);
    } else {
      const identifier = guardInstanceId(limits.modelKey, limits.contextLength);
      const load = await this.loadRetryingDrop(limits.modelKey, {
        identifier,
        contextLength: limits.contextLength,
        type,
        ...(this.options.loadSettings ? { settings: this.options.loadSettings } : {}),
        ...(signal ? { signal } : {}),
      }).catch(async (error: unknown) => {
        // Another guard in this process (or another process) loaded the same instance meanwhile: use it.
        const raced = (await this.host.listLoaded().catch(() => [])).find((i) => i.identifier === identifier);
        if (raced === undefined) throw error;
        return {
          identifier,
          requested: limits.contextLength,
          actual: raced.contextLength,
          honoured: raced.contextLength === limits.contextLength,
        };
      });
      if (!load.honoured) {
        this.warnOnce(
          `autofit:${identifier}:${load.actual}`,
          `LM Studio loaded "${limits.modelKey}" with ${load.actual} tokens of context instead of ${load.requested} (auto-fit?); requests are limited to ${Math.min(load.actual, load.requested)}.`,
        );
      }
      ref = { identifier, type };
      contextLength = Math.min(load.actual, limits.contextLength);
    }
    // The budget exists before the instance is handed out, so no request is ever admitted without one.
    if (type === "llm") {
      const kvCache = await this.kvCacheOf(ref);
      this.budgets.set(
        ref.identifier,
        instanceBudget(this.baseUrl, ref.identifier, { contextLength, ...kvCache }),
      );
    }
    const prepared: Prepared = { limits, ref, contextLength, checkedAt: performance.now() };
    this.prepared.set(model, prepared);
    return prepared;
  }

  /** The instance's slots and cache mode; LM Studio 0.4's defaults (the strictest case) when unreadable. */
  private async kvCacheOf(ref: InstanceRef): Promise<KvCacheConfig> {
    try {
      return (await this.host.kvCacheOf?.(ref)) ?? DEFAULT_KV_CACHE;
    } catch {
      return DEFAULT_KV_CACHE;
    }
  }

  /**
   * Waits until `tokens` (prompt + max tokens) fit on the instance beside the guarded requests running
   * there, in this process (see admission.ts); the caller releases the ticket when its request is done.
   */
  async admit(instance: string, tokens: number, signal?: AbortSignal): Promise<AdmissionTicket> {
    const budget = this.budgets.get(instance);
    if (budget === undefined) return { tokens, release: () => undefined };
    return budget.admit(tokens, { timeoutMs: this.admissionTimeoutMs, ...(signal ? { signal } : {}) });
  }

  /** Resolves once no guarded request of this process runs on the instance (bounded by the admission wait). */
  async drained(instance: string): Promise<void> {
    await this.budgets.get(instance)?.drained(this.admissionTimeoutMs);
  }

  private get admissionTimeoutMs(): number {
    return this.options.admissionTimeoutMs ?? 300_000;
  }

  /**
   * Loads, retrying once when the SDK socket dropped mid-load: LM Studio drops it now and then, the
   * host has already removed the half-finished instance and reconnects on the next call, and the
   * request that needed the model should not fail for it. Any other failure is final.
   */
  private async loadRetryingDrop(modelKey: string, request: LoadRequest): Promise<LoadResult> {
    try {
      return await this.host.load(modelKey, request);
    } catch (error) {
      if (!(error instanceof ModelHostError) || error.kind !== "disconnect" || request.signal?.aborted)
        throw error;
      return this.host.load(modelKey, request);
    }
  }

  /** Token counts by content hash: the same prompt is never counted twice (bounded, least recent evicted). */
  private async cachedCount(
    prepared: Prepared,
    content: string,
    compute: () => Promise<number>,
  ): Promise<number> {
    const hit = this.counts.get(prepared.limits.modelKey, content);
    if (hit !== undefined) return hit;
    const count = await compute();
    this.counts.set(prepared.limits.modelKey, content, count);
    return count;
  }

  private async countChat(prepared: Prepared, messages: BaseMessage[], tools?: unknown[]): Promise<number> {
    const turns = messagesToTurns(messages, tools);
    const tokens = await this.cachedCount(prepared, `chat\u0000${JSON.stringify(turns)}`, async () =>
      this.host.countTokens(prepared.ref, await this.host.applyPromptTemplate(prepared.ref, turns)),
    );
    return tokens + imageTokens(messages);
  }

  /**
   * Runs `use` on the prepared instance. The cache trusts an instance for `instanceCheckMs`; when LM
   * Studio no longer has it (restarted, unloaded by hand), the model is prepared (loaded) again once
   * instead of failing every request until the next check.
   */
  private async onPrepared<T>(
    model: string,
    type: ModelType,
    signal: AbortSignal | undefined,
    use: (prepared: Prepared) => Promise<T>,
  ): Promise<T> {
    const prepared = await this.prepare(model, type, signal);
    try {
      return await use(prepared);
    } catch (error) {
      if (!(error instanceof ModelHostError && error.kind === "not-found")) throw error;
      if (this.prepared.get(model) === prepared) this.invalidate(model);
      return use(await this.prepare(model, type, signal));
    }
  }

  async clampChat(req: ChatClampRequest, signal?: AbortSignal): Promise<ChatClampResult> {
    return this.onPrepared(req.model, "llm", signal, (prepared) => this.clampChatOn(prepared, req));
  }

  private async clampChatOn(prepared: Prepared, req: ChatClampRequest): Promise<ChatClampResult> {
    const count = (messages: BaseMessage[]) =>
      this.countChat(prepared, messages, req.tools).catch((error: unknown) => {
        throw typedHostError(error, this.baseUrl);
      });
    const promptTokens = await count(req.messages);
    const fit = await fitChat(
      req.messages,
      promptTokens,
      count,
      {
        model: req.model,
        contextLength: prepared.contextLength,
        promptLimit: Math.min(prepared.limits.promptLimit, prepared.contextLength),
        minOutputTokens: this.options.minOutputTokens ?? 16,
      },
      req.overflow,
      req.maxTokens,
    );
    return {
      model: prepared.ref.identifier,
      messages: fit.messages,
      maxTokens: fit.maxTokens,
      promptTokens: fit.promptTokens,
      contextLength: prepared.contextLength,
    };
  }

  async clampEmbedding(
    model: string,
    texts: string[],
    signal?: AbortSignal,
  ): Promise<{ model: string; contextLength: number; tokenCounts: number[] }> {
    return this.onPrepared(model, "embedding", signal, (prepared) =>
      this.countEmbeddingInputs(prepared, texts),
    );
  }

  private async countEmbeddingInputs(
    prepared: Prepared,
    texts: string[],
  ): Promise<{ model: string; contextLength: number; tokenCounts: number[] }> {
    const tokenCounts = await Promise.all(
      texts.map((text) =>
        this.cachedCount(prepared, `text\u0000${text}`, () => this.host.countTokens(prepared.ref, text)),
      ),
    ).catch((error: unknown) => {
      throw typedHostError(error, this.baseUrl);
    });
    return { model: prepared.ref.identifier, contextLength: prepared.contextLength, tokenCounts };
  }

  /** Unloads what the guard loaded and closes the connection. */
  async close(): Promise<void> {
    this.prepared.clear();
    await this.host.close();
  }
}

/** @deprecated Use `new ContextGuard(options)`; this adds nothing to the constructor. */
export function createContextGuard(options: ContextGuardOptions = {}): ContextGuard {
  return new ContextGuard(options);
}
