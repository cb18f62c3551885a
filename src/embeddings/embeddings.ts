import { Embeddings, type EmbeddingsParams } from "@langchain/core/embeddings";
import { SdkModelHost } from "../context-guard/model-host.js";
import { DEFAULT_SDK_DEADLINES, type SdkDeadlines } from "../context-guard/sdk-lifecycle.js";
import { type LMStudioSettings, lmStudioSettingsFor } from "../env/env.js";
import { assertSendableApiKey } from "../lmstudio/errors.js";
import { fetchLMStudioJson } from "../lmstudio/fetch-json.js";
import { normalizeBaseUrl } from "../lmstudio/urls.js";
import { planBatches } from "./batching.js";
import { LMStudioEmbeddingDimensionError, LMStudioMalformedEmbeddingError } from "./errors.js";
import { type EmbeddingContextGuard, guardTokenCounter, lazyContextGuard } from "./guard-token-counter.js";
import { modelHostTokenCounter } from "./host-token-counter.js";
import {
  type EmbeddingPiece,
  type LongInputPolicy,
  type LongInputWarning,
  planEmbeddingPieces,
} from "./long-input.js";
import type { EmbeddingTokenCounter } from "./token-counter.js";
import { l2Normalize, weightedMean } from "./vector-math.js";

export interface LMStudioEmbeddingsParams extends EmbeddingsParams {
  /** Embedding model key or loaded identifier (default LMSTUDIO_EMBEDDING_MODEL). */
  model?: string;
  /** OpenAI-compatible base URL (default LMSTUDIO_BASE_URL, else http://localhost:1234/v1). */
  baseUrl?: string;
  /** Bearer token when LM Studio requires authentication (default LM_API_TOKEN / LMSTUDIO_API_KEY). */
  apiKey?: string;
  /** Most texts per request (default 512). */
  batchSize?: number;
  /** Largest JSON request body, in bytes; batches are cut earlier when they would exceed it (default 8 MiB). */
  maxRequestBytes?: number;
  /** Asked of the server; every vector returned must have this length. */
  dimensions?: number;
  /** Replace newlines with spaces before embedding (default false). */
  stripNewLines?: boolean;
  /** An input longer than the loaded context: "error" (default), "truncate" (with a warning) or "split". */
  onLongInput?: LongInputPolicy;
  /** Receives truncation warnings (default console.warn). */
  onWarning?: (warning: LongInputWarning) => void;
  /** Per-request time limit in milliseconds (default 600000: a large batch on a CPU can take minutes). */
  timeout?: number;
  /** Use the context guard's measured context and token counts; `true` builds one for the same server. */
  contextGuard?: true | EmbeddingContextGuard;
  /**
   * Counts tokens with the model's tokenizer (overrides contextGuard). Default: the embedding model's
   * own tokenizer through LM Studio's SDK socket on the same host and port.
   */
  tokenCounter?: EmbeddingTokenCounter;
  fetch?: typeof fetch;
  /** Defaults to use instead of reading the environment (the factories pass loadConfig's). */
  settings?: LMStudioSettings;
}

const DEFAULT_BATCH_SIZE = 512;
const DEFAULT_MAX_REQUEST_BYTES = 8 * 1024 * 1024;
const DEFAULT_TIMEOUT_MS = 600_000;
// A local server embeds one batch at a time; more than a couple of requests in flight only queue there.
const DEFAULT_MAX_CONCURRENCY = 2;
// 5xx from LM Studio is usually a model (re)loading; a couple of retries is enough, six would stall.
const DEFAULT_MAX_RETRIES = 2;

/**
 * LangChain embeddings over LM Studio's `/v1/embeddings`.
 *
 * Requests go through `fetch`, not the openai client: the client's embeddings helper decodes base64
 * whenever the caller does not insist on floats (the bug that turns a 768-dim vector into 192), wraps
 * LM Studio's error bodies in its own classes, and retries on its own; with fetch we always send
 * `encoding_format: "float"`, validate the float arrays ourselves, hand raw error bodies to
 * `mapLMStudioError`, and leave retries and concurrency to LangChain's AsyncCaller.
 */
export class LMStudioEmbeddings extends Embeddings {
  readonly model: string;
  readonly baseUrl: string;
  readonly batchSize: number;
  readonly maxRequestBytes: number;
  readonly dimensions?: number;
  readonly stripNewLines: boolean;
  readonly onLongInput: LongInputPolicy;
  readonly timeout: number;
  // A true private field: a TS `private` is an ordinary property that JSON.stringify and util.inspect print.
  readonly #apiKey?: string;
  private readonly onWarning: (warning: LongInputWarning) => void;
  private readonly tokenCounter: EmbeddingTokenCounter;
  /** The caller supplied the token counter, so the server may not be LM Studio. */
  private readonly ownTokenCounter: boolean;
  private readonly fetchImpl?: typeof fetch;
  /** Closes the SDK connection this object opened itself (never a guard or counter passed in). */
  readonly #release: (() => Promise<void>) | undefined;
  /** Vector length seen for the model so far: a later call that differs is an error, not a silent mix. */
  private knownDimensions?: number;

  constructor(fields: LMStudioEmbeddingsParams = {}) {
    super({
      ...fields,
      maxConcurrency: fields.maxConcurrency ?? DEFAULT_MAX_CONCURRENCY,
      maxRetries: fields.maxRetries ?? DEFAULT_MAX_RETRIES,
    });
    const settings = lmStudioSettingsFor(fields.settings, [fields.model, fields.baseUrl, fields.apiKey]);
    const model = fields.model ?? settings.embeddingModel;
    if (!model) {
      throw new Error(
        "LMStudioEmbeddings needs a model: pass { model } or set LMSTUDIO_EMBEDDING_MODEL " +
          "(e.g. text-embedding-nomic-embed-text-v1.5).",
      );
    }
    this.model = model;
    this.baseUrl = normalizeBaseUrl(fields.baseUrl ?? settings.baseUrl);
    this.#apiKey = fields.apiKey ?? settings.apiKey;
    assertSendableApiKey(this.#apiKey);
    this.batchSize = fields.batchSize ?? DEFAULT_BATCH_SIZE;
    this.maxRequestBytes = fields.maxRequestBytes ?? DEFAULT_MAX_REQUEST_BYTES;
    this.dimensions = fields.dimensions;
    this.stripNewLines = fields.stripNewLines ?? false;
    this.onLongInput = fields.onLongInput ?? "error";
    this.timeout = fields.timeout ?? DEFAULT_TIMEOUT_MS;
    this.onWarning = fields.onWarning ?? ((warning) => console.warn(warning.message));
    this.fetchImpl = fields.fetch;
    this.ownTokenCounter = fields.tokenCounter !== undefined;
    if (fields.tokenCounter) {
      this.tokenCounter = fields.tokenCounter;
    } else if (fields.contextGuard === true) {
      const guard = lazyContextGuard({ baseUrl: this.baseUrl, apiKey: this.#apiKey });
      this.tokenCounter = guardTokenCounter(guard);
      this.#release = () => guard.close();
    } else if (fields.contextGuard) {
      this.tokenCounter = guardTokenCounter(fields.contextGuard);
    } else {
      const host = new SdkModelHost({
        baseUrl: this.baseUrl,
        apiKey: this.#apiKey,
        deadlines: sdkDeadlinesFor(this.timeout),
      });
      this.tokenCounter = modelHostTokenCounter(host, {
        baseUrl: this.baseUrl,
        apiKey: this.#apiKey,
        fetch: fields.fetch,
      });
      this.#release = () => host.disconnect();
    }
  }

  /**
   * Closes the LM Studio SDK connection this object opened for token counting (or the guard it built
   * for `contextGuard: true`), so a process can exit and long-lived apps do not hoard sockets. A guard
   * or token counter passed in is the caller's to close. Later calls reconnect.
   */
  async close(): Promise<void> {
    await this.#release?.();
  }

  async embedQuery(text: string): Promise<number[]> {
    const [vector] = await this.embedDocuments([text]);
    return vector!;
  }

  async embedDocuments(documents: string[]): Promise<number[][]> {
    if (documents.length === 0) return [];
    const texts = this.stripNewLines ? documents.map((text) => text.replace(/\n/g, " ")) : documents;
    const loaded = await this.tokenCounter.loadedModel(this.model);
    const pieces = await planEmbeddingPieces(texts, {
      model: this.model,
      contextLength: loaded.contextLength,
      policy: this.onLongInput,
      count: (batch) => this.tokenCounter.countTokens(this.model, batch),
      onTruncate: this.onWarning,
      servedByLMStudio: !this.ownTokenCounter,
    });
    const vectors = await this.embedPieces(
      loaded.identifier,
      pieces.map((piece) => piece.text),
    );
    this.checkDimensions(pieces, vectors);
    return combinePieces(documents.length, pieces, vectors);
  }

  /** Vectors for `texts`, in order, in batches run through the AsyncCaller (bounded, retried). */
  private async embedPieces(model: string, texts: string[]): Promise<number[][]> {
    const batches = planBatches(texts, { maxTexts: this.batchSize, maxBytes: this.maxRequestBytes });
    const results = await Promise.all(
      batches.map(([start, end]) =>
        this.caller.call(() => this.requestBatch(model, texts.slice(start, end))),
      ),
    );
    return results.flat();
  }

  private async requestBatch(model: string, input: string[]): Promise<number[][]> {
    const body = await fetchLMStudioJson({
      url: `${this.baseUrl}/embeddings`,
      method: "POST",
      body: {
        model,
        input,
        // LM Studio ignores encoding_format and always answers with floats; saying so keeps any proxy
        // in between from answering base64 we would then misread.
        encoding_format: "float",
        ...(this.dimensions !== undefined ? { dimensions: this.dimensions } : {}),
      },
      apiKey: this.#apiKey,
      timeoutMs: this.timeout,
      baseUrl: this.baseUrl,
      errorContext: { model },
      fetch: this.fetchImpl,
    });
    return parseEmbeddingResponse(body, input.length, model);
  }

  private checkDimensions(pieces: EmbeddingPiece[], vectors: number[][]): void {
    const expected = this.dimensions ?? this.knownDimensions ?? vectors[0]?.length ?? 0;
    const reason =
      this.dimensions !== undefined
        ? "the `dimensions` option; the server may not support it for this model"
        : this.knownDimensions !== undefined
          ? "earlier vectors from this model had that length; has a different model been loaded?"
          : "input 0 of this call had that length";
    vectors.forEach((vector, i) => {
      if (vector.length !== expected) {
        throw new LMStudioEmbeddingDimensionError(
          this.model,
          pieces[i]!.inputIndex,
          expected,
          vector.length,
          reason,
        );
      }
    });
    // An empty vector says nothing about the model; remembering 0 would fail every later good answer.
    if (expected > 0) this.knownDimensions = expected;
  }
}

/** The token counter's SDK calls never wait longer than the caller's `timeout` allows a request. */
function sdkDeadlinesFor(timeout: number): SdkDeadlines {
  return {
    connectMs: Math.min(timeout, DEFAULT_SDK_DEADLINES.connectMs),
    callMs: Math.min(timeout, DEFAULT_SDK_DEADLINES.callMs),
    loadMs: timeout,
  };
}

/** `{ data: [{ embedding: number[], index }] }` → vectors in input order, each checked to be floats. */
function parseEmbeddingResponse(body: unknown, expectedCount: number, model: string): number[][] {
  const data = (body as { data?: unknown } | undefined)?.data;
  if (!Array.isArray(data)) throw new LMStudioMalformedEmbeddingError(model, "no `data` array");
  if (data.length !== expectedCount) {
    throw new LMStudioMalformedEmbeddingError(model, `${data.length} embeddings for ${expectedCount} inputs`);
  }
  const vectors = new Array<number[] | undefined>(expectedCount);
  data.forEach((item: { embedding?: unknown; index?: unknown }, position) => {
    const index = typeof item?.index === "number" ? item.index : position;
    const embedding = item?.embedding;
    if (
      !Array.isArray(embedding) ||
      embedding.length === 0 ||
      !embedding.every((value) => typeof value === "number" && Number.isFinite(value))
    ) {
      throw new LMStudioMalformedEmbeddingError(
        model,
        `embedding ${index} is not an array of finite numbers (got ${typeof embedding === "string" ? "a string, perhaps base64" : typeof embedding})`,
      );
    }
    if (!Number.isInteger(index) || index < 0 || index >= expectedCount || vectors[index] !== undefined) {
      throw new LMStudioMalformedEmbeddingError(
        model,
        `embedding index ${index} is not a whole number in range, or is repeated`,
      );
    }
    vectors[index] = embedding as number[];
  });
  return vectors as number[][];
}

/** One vector per input: the piece's own vector, or the token-weighted, normalised mean of a split input's. */
function combinePieces(inputCount: number, pieces: EmbeddingPiece[], vectors: number[][]): number[][] {
  const grouped = Array.from({ length: inputCount }, () => ({
    vectors: [] as number[][],
    weights: [] as number[],
  }));
  pieces.forEach((piece, i) => {
    const group = grouped[piece.inputIndex]!;
    group.vectors.push(vectors[i]!);
    group.weights.push(piece.tokens ?? 1);
  });
  return grouped.map(({ vectors: parts, weights }) =>
    parts.length === 1 ? parts[0]! : l2Normalize(weightedMean(parts, weights)),
  );
}
