import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import type { LMStudioClient, ModelInfo } from "@lmstudio/sdk";
import { classifyLMStudioFailure } from "../lmstudio/error-mapping.js";
import { LMStudioTimeoutError } from "../lmstudio/errors.js";
import { sdkWebSocketUrl } from "../lmstudio/urls.js";
import type {
  ChatTurn,
  DownloadedModel,
  InstanceRef,
  KvCacheConfig,
  LoadedInstance,
  LoadRequest,
  LoadResult,
  LoadSettings,
  ModelHost,
  ResourceEstimate,
  RespondRequest,
  RespondResult,
} from "./host.js";
import { DEFAULT_KV_CACHE, ModelHostError } from "./host.js";
import { type LMStudioSdk, loadSdk } from "./load-sdk.js";
import { DEFAULT_SDK_DEADLINES, disposeSdkClient, type SdkDeadlines, withDeadline } from "./sdk-lifecycle.js";

/**
 * The only file that uses `@lmstudio/sdk` (loaded on first call by load-sdk.ts): an SDK version change
 * is a change here and nowhere else.
 * Every call goes through a dynamic handle by identifier, so a reconnect after a dropped WebSocket
 * keeps working with instances loaded before it.
 */

/**
 * The SDK's `LoggerInterface`, declared here so the published types do not need `@lmstudio/sdk`
 * installed (it is an optional dependency).
 */
export interface SdkLogger {
  info(...messages: unknown[]): void;
  warn(...messages: unknown[]): void;
  error(...messages: unknown[]): void;
  debug(...messages: unknown[]): void;
}

export interface SdkModelHostOptions {
  /** The OpenAI-compatible base URL (…/v1); the SDK's ws:// URL is derived from it. */
  baseUrl: string;
  /** LM Studio API token; passed to the SDK only in its `sk-lm-…:…` form, which is all it accepts. */
  apiKey?: string;
  /** Where SDK log lines go; silent by default because failures reach the caller as errors. */
  logger?: SdkLogger;
  /** Deadlines for SDK calls (the SDK has none): every call settles, a missed one as a "timeout". */
  deadlines?: SdkDeadlines;
}

const SDK_TOKEN = /^sk-lm-[a-zA-Z0-9]{8}:[a-zA-Z0-9]{20}$/;

const silentLogger: SdkLogger = {
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  debug: () => undefined,
};

/**
 * The structured fields the SDK copies from LM Studio's serialized error onto the Error it throws
 * (`title`, `cause`, `suggestion`, `errorData`; `displayData` and `rootTitle` on the plain path).
 * Present whatever the frame's age: old servers omit `rootTitle`/`stack`, new ones send both.
 */
interface SdkErrorFields {
  title?: string;
  rootTitle?: string;
  cause?: string;
  /** Engine details LM Studio attaches to load failures (e.g. `{n_ctx, n_batch, n_gpu_layers}`). */
  errorData?: Record<string, unknown>;
  displayCode?: string;
}

function sdkErrorFields(error: unknown): SdkErrorFields | undefined {
  if (!(error instanceof Error)) return undefined;
  const raw = error as Error & Record<string, unknown>;
  const title = typeof raw.title === "string" ? raw.title : undefined;
  const rootTitle = typeof raw.rootTitle === "string" ? raw.rootTitle : undefined;
  const displayData = raw.displayData;
  const code =
    typeof displayData === "object" && displayData !== null
      ? (displayData as { code?: unknown }).code
      : undefined;
  if (title === undefined && rootTitle === undefined && typeof code !== "string") return undefined;
  return {
    ...(title !== undefined ? { title } : {}),
    ...(rootTitle !== undefined ? { rootTitle } : {}),
    ...(typeof raw.cause === "string" ? { cause: raw.cause } : {}),
    ...(typeof raw.errorData === "object" && raw.errorData !== null
      ? { errorData: raw.errorData as Record<string, unknown> }
      : {}),
    ...(typeof code === "string" ? { displayCode: code } : {}),
  };
}

/** Maps any SDK or transport error to a ModelHostError; `signal` tells a timeout from a user abort. */
export function classifyHostError(error: unknown, signal?: AbortSignal): ModelHostError {
  if (error instanceof ModelHostError) return error;
  const text = error instanceof Error ? error.message : String(error);
  if (signal?.aborted) {
    const reason: unknown = signal.reason;
    const timedOut = reason instanceof Error && reason.name === "TimeoutError";
    return new ModelHostError(timedOut ? "timeout" : "aborted", text, { cause: error });
  }
  if (error instanceof Error && error.name === "AbortError") {
    return new ModelHostError("aborted", text, { cause: error });
  }
  const fields = sdkErrorFields(error);
  if (fields) {
    // LM Studio's own title is clean, one line and uncoloured: no need to parse the formatted message.
    const title = fields.title ?? fields.rootTitle ?? firstLine(text);
    const kind = classifyLMStudioFailure([title, fields.cause], fields.displayCode) ?? "other";
    const data = fields.errorData !== undefined ? ` ${JSON.stringify(fields.errorData)}` : "";
    return new ModelHostError(kind, `${title}${data}`, { cause: error });
  }
  const kind = classifyLMStudioFailure([text]) ?? "other";
  return new ModelHostError(kind, firstLine(text), { cause: error });
}

/**
 * A signal for one SDK call that follows the caller's `signal` only while the call is pending.
 * The SDK adds abort listeners to the signal it is given and never removes them; a caller's long-lived
 * signal (the probe's 10-minute `AbortSignal.timeout`) would fire them after the call finished, when the
 * SDK sends "cancel" on a transport that may be disposed by then and throws from inside the abort
 * event: an uncaught exception that kills the process. Detaching on settle keeps those listeners silent.
 */
async function withCallSignal<T>(
  signal: AbortSignal | undefined,
  run: (callSignal: AbortSignal | undefined) => Promise<T>,
): Promise<T> {
  if (signal === undefined) return run(undefined);
  const controller = new AbortController();
  const forward = () => controller.abort(signal.reason);
  if (signal.aborted) forward();
  else signal.addEventListener("abort", forward, { once: true });
  try {
    return await run(controller.signal);
  } finally {
    signal.removeEventListener("abort", forward);
  }
}

function firstLine(text: string): string {
  // Errors without LM Studio's fields (transport failures, friendly-formatted ones) carry ANSI colours
  // and multi-line suggestions; the registry log wants one clean line.
  // biome-ignore lint/suspicious/noControlCharactersInRegex: stripping ANSI escape sequences
  const plain = text.replace(/\u001b\[[0-9;]*m/g, "").trim();
  return plain.split("\n").find((line) => line.trim() !== "") ?? plain;
}

function toDownloaded(info: ModelInfo): DownloadedModel {
  return {
    key: info.modelKey,
    type: info.type,
    displayName: info.displayName,
    declaredMax: info.maxContextLength,
    vision: info.type === "llm" ? info.vision : false,
    toolUse: info.type === "llm" ? info.trainedForToolUse : false,
    format: info.format,
    sizeBytes: info.sizeBytes,
    path: info.path,
  };
}

export class SdkModelHost implements ModelHost {
  private client: LMStudioClient | undefined;
  /** The fresh client's first round trip, bounded by `connectMs`; every call waits for it. */
  private connected: Promise<void> | undefined;
  /** Instances this host loaded, by identifier: the only ones it will ever unload. */
  private readonly owned = new Map<string, InstanceRef>();

  constructor(private readonly options: SdkModelHostOptions) {}

  private sdk(sdk: LMStudioSdk): LMStudioClient {
    if (this.client === undefined) {
      const apiToken =
        this.options.apiKey && SDK_TOKEN.test(this.options.apiKey) ? this.options.apiKey : undefined;
      this.client = new sdk.LMStudioClient({
        baseUrl: sdkWebSocketUrl(this.options.baseUrl),
        logger: this.options.logger ?? silentLogger,
        ...(apiToken ? { apiToken } : {}),
      });
    }
    return this.client;
  }

  private deadline(name: keyof SdkDeadlines): number {
    return this.options.deadlines?.[name] ?? DEFAULT_SDK_DEADLINES[name];
  }

  private timeoutError(name: keyof SdkDeadlines): ModelHostError {
    const what =
      name === "connectMs" ? "the connection" : name === "loadMs" ? "a load or generation" : "a call";
    const timeout = new LMStudioTimeoutError(
      `${what} on its SDK socket (${sdkWebSocketUrl(this.options.baseUrl)})`,
      this.deadline(name),
    );
    return new ModelHostError("timeout", timeout.message, { cause: timeout });
  }

  /**
   * Runs one SDK call within its deadline (the first call on a fresh client also waits, bounded, for
   * the connection). A dropped or silent connection discards the client so the next call reconnects.
   */
  private async call<T>(
    run: (client: LMStudioClient) => Promise<T>,
    signal?: AbortSignal,
    deadline: "callMs" | "loadMs" = "callMs",
  ): Promise<T> {
    // Outside the try: a missing SDK reaches the caller as MissingOptionalDependencyError, not a host failure.
    const client = this.sdk(await loadSdk());
    try {
      this.connected ??= withDeadline(
        client.system.getLMStudioVersion().then(
          () => undefined,
          (error: unknown) => {
            // Any answer, even an error (a server without this call), shows the connection works.
            if (classifyHostError(error).kind === "disconnect") throw error;
          },
        ),
        this.deadline("connectMs"),
        () => this.timeoutError("connectMs"),
      ).catch((error: unknown) => {
        // A failed connection is not remembered: the next call tries again.
        if (this.client === client) this.connected = undefined;
        throw error;
      });
      await this.connected;
      return await withDeadline(run(client), this.deadline(deadline), () => this.timeoutError(deadline));
    } catch (error) {
      const failure = classifyHostError(error, signal);
      // Not awaited: the caller gets its error now; the client's sockets are closed within a bound.
      if (failure.kind === "disconnect" || failure.kind === "timeout") void this.dropClient(client);
      throw failure;
    }
  }

  private async dropClient(client = this.client): Promise<void> {
    if (client === undefined) return;
    if (this.client === client) {
      this.client = undefined;
      this.connected = undefined;
    }
    await disposeSdkClient(client);
  }

  async serverVersion(): Promise<string> {
    try {
      return (await this.call((c) => c.system.getLMStudioVersion())).version;
    } catch {
      return "unknown";
    }
  }

  async listDownloaded(): Promise<DownloadedModel[]> {
    return (await this.call((c) => c.system.listDownloadedModels())).map(toDownloaded);
  }

  async listLoaded(): Promise<LoadedInstance[]> {
    return this.call(async (c) => {
      const [llms, embeddings] = await Promise.all([c.llm.listLoaded(), c.embedding.listLoaded()]);
      const handles = [
        ...llms.map((h) => ({ h, type: "llm" as const })),
        ...embeddings.map((h) => ({ h, type: "embedding" as const })),
      ];
      return Promise.all(
        handles.map(async ({ h, type }) => ({
          identifier: h.identifier,
          modelKey: h.modelKey,
          type,
          contextLength: await h.getContextLength(),
        })),
      );
    });
  }

  async load(modelKey: string, request: LoadRequest): Promise<LoadResult> {
    const type = request.type ?? "llm";
    try {
      const actual = await this.call(
        (c) =>
          withCallSignal(request.signal, async (signal) => {
            const base = { identifier: request.identifier, ttl: request.ttlSeconds, signal, verbose: false };
            const handle =
              type === "llm"
                ? await c.llm.load(modelKey, {
                    ...base,
                    config: { contextLength: request.contextLength, ...request.settings },
                  })
                : await c.embedding.load(modelKey, {
                    ...base,
                    config: { contextLength: request.contextLength },
                  });
            this.owned.set(request.identifier, { identifier: request.identifier, type });
            return handle.getContextLength();
          }),
        request.signal,
        "loadMs",
      );
      return {
        identifier: request.identifier,
        requested: request.contextLength,
        actual,
        honoured: actual === request.contextLength,
      };
    } catch (error) {
      const failure = classifyHostError(error, request.signal);
      // A drop or abort can leave a half-finished load on the server; remove it if it got there.
      if (failure.kind === "disconnect" || failure.kind === "aborted" || failure.kind === "timeout") {
        await this.unload({ identifier: request.identifier, type }).catch(() => undefined);
      }
      throw failure;
    }
  }

  async unload(ref: InstanceRef): Promise<void> {
    this.owned.delete(ref.identifier);
    await this.call((c) => (ref.type === "llm" ? c.llm : c.embedding).unload(ref.identifier)).catch(
      (error: unknown) => {
        // Already gone (TTL, eviction, crash): the goal of unloading is reached.
        if (error instanceof ModelHostError && error.kind === "not-found") return;
        throw error;
      },
    );
  }

  ownedInstances(): string[] {
    return [...this.owned.keys()];
  }

  async applyPromptTemplate(ref: InstanceRef, turns: ChatTurn[]): Promise<string> {
    if (ref.type !== "llm") throw new ModelHostError("other", "prompt templates exist only for LLMs");
    return this.call((c) =>
      c.llm
        .createDynamicHandle(ref.identifier)
        .applyPromptTemplate(turns.map((t) => ({ role: t.role, content: t.content }))),
    );
  }

  async embed(ref: InstanceRef, text: string): Promise<number[]> {
    return (await this.call((c) => c.embedding.createDynamicHandle(ref.identifier).embed(text))).embedding;
  }

  async kvCacheOf(ref: InstanceRef): Promise<KvCacheConfig> {
    // SDK 2.0 reads both keys back, filling LM Studio's defaults (4, true) for keys the server left out.
    const config = await this.call((c) => c.llm.createDynamicHandle(ref.identifier).getLoadConfig());
    return {
      parallel: config.maxParallelPredictions ?? DEFAULT_KV_CACHE.parallel,
      unified: config.useUnifiedKvCache ?? DEFAULT_KV_CACHE.unified,
    };
  }

  async countTokens(ref: InstanceRef, text: string): Promise<number> {
    return this.call((c) =>
      ref.type === "llm"
        ? c.llm.createDynamicHandle(ref.identifier).countTokens(text)
        : c.embedding.createDynamicHandle(ref.identifier).countTokens(text),
    );
  }

  async respond(ref: InstanceRef, turns: ChatTurn[], request: RespondRequest): Promise<RespondResult> {
    const result = await this.call(
      (c) =>
        withCallSignal(request.signal, (signal) =>
          c.llm.createDynamicHandle(ref.identifier).respond(
            turns.map((t) => ({ role: t.role, content: t.content })),
            { maxTokens: request.maxTokens, temperature: 0, ...(signal ? { signal } : {}) },
          ),
        ),
      request.signal,
      "loadMs",
    );
    const stats = result.stats;
    return {
      content: result.nonReasoningContent,
      promptTokens: stats.promptTokensCount,
      predictedTokens: stats.predictedTokensCount,
      stopReason: stats.stopReason,
      timeToFirstTokenSec: stats.timeToFirstTokenSec,
      tokensPerSecond: stats.tokensPerSecond,
    };
  }

  async estimate(
    modelKey: string,
    contextLength: number,
    settings?: LoadSettings,
  ): Promise<ResourceEstimate | undefined> {
    try {
      const estimate = await this.call((c) =>
        c.llm.estimateResourcesUsage(modelKey, { contextLength, ...settings }),
      );
      return { passesGuardrails: estimate.passesGuardrails, totalBytes: estimate.memory.totalVramBytes };
    } catch (error) {
      // Servers without the experimental endpoint answer "not supported"/unknown endpoint: no estimate.
      if (error instanceof ModelHostError && (error.kind === "disconnect" || error.kind === "timeout"))
        throw error;
      return undefined;
    }
  }

  async close(): Promise<void> {
    for (const ref of [...this.owned.values()]) await this.unload(ref).catch(() => undefined);
    await this.dropClient();
  }

  /** Closes the SDK connection and leaves loaded instances alone; the next call reconnects. */
  async disconnect(): Promise<void> {
    await this.dropClient();
  }
}

/** The installed SDK's version, for `doctor`. */
export function sdkVersion(): string {
  try {
    const require = createRequire(import.meta.url);
    const pkg = require(join(dirname(require.resolve("@lmstudio/sdk")), "..", "package.json")) as {
      version?: string;
    };
    return pkg.version ?? "unknown";
  } catch {
    return "unknown";
  }
}
