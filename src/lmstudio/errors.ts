import { ContextOverflowError, LangChainError, stampRetryable } from "@langchain/core/errors";
import { apiTokenProblem } from "../env/env.js";
import { lmStudioErrorBase } from "./error-brand.js";
import { listNames, quoteName, quoteServerText } from "./quote.js";
import { withoutCredentials } from "./urls.js";

/**
 * Typed errors for everything LM Studio can answer with. Each keeps LangChain's family
 * (`LangChainError`, or core's `ContextOverflowError` for overflow) so generic handlers keep working,
 * and each is stamped non-retryable where retrying cannot help, so `AsyncCaller` gives up at once.
 */

/** Which wording the server used for a context overflow; useful when reporting LM Studio bugs. */
export type OverflowDialect =
  | "lmstudio-0.3"
  | "lmstudio-0.4"
  | "lmstudio-0.4.21-stream"
  | "mlx"
  | "llama-server"
  | "context-guard";

export class LMStudioContextOverflowError extends lmStudioErrorBase(
  ContextOverflowError,
  "context-overflow",
) {
  readonly promptTokens?: number;
  readonly contextLength?: number;
  readonly dialect: OverflowDialect;

  constructor(
    message: string,
    details: { promptTokens?: number; contextLength?: number; dialect: OverflowDialect; cause?: Error },
  ) {
    super(message);
    this.promptTokens = details.promptTokens;
    this.contextLength = details.contextLength;
    this.dialect = details.dialect;
    if (details.cause) this.cause = details.cause;
    stampRetryable(this, false);
  }
}

export class LMStudioModelNotFoundError extends lmStudioErrorBase(LangChainError, "model-not-found") {
  override readonly name: string = "LMStudioModelNotFoundError";
  readonly lc_error_code = "MODEL_NOT_FOUND";
  constructor(
    readonly model: string,
    readonly availableModels: string[],
    detail?: string,
  ) {
    const available = availableModels.length > 0 ? listNames(availableModels) : "none reported";
    super(
      `LM Studio has no model "${quoteName(model)}". Available models: ${available}.` +
        (detail ? ` (server said: ${quoteServerText(detail)})` : ""),
    );
    stampRetryable(this, false);
  }
}

export class LMStudioNoModelLoadedError extends lmStudioErrorBase(LangChainError, "no-model-loaded") {
  override readonly name: string = "LMStudioNoModelLoadedError";
  constructor(detail?: string) {
    super(
      "LM Studio has no model loaded and just-in-time loading is off. Load one with `lms load <model>` " +
        "or enable JIT loading in LM Studio's developer settings." +
        (detail ? ` (server said: ${quoteServerText(detail)})` : ""),
    );
    stampRetryable(this, false);
  }
}

export class LMStudioNotEmbeddingModelError extends lmStudioErrorBase(LangChainError, "not-embedding-model") {
  override readonly name: string = "LMStudioNotEmbeddingModelError";
  constructor(
    readonly model: string,
    detail?: string,
  ) {
    super(
      `"${quoteName(model)}" is not an embedding model, so LM Studio cannot embed with it. ` +
        "Use an embedding model (e.g. text-embedding-nomic-embed-text-v1.5) or set LMSTUDIO_EMBEDDING_MODEL." +
        (detail ? ` (server said: ${quoteServerText(detail)})` : ""),
    );
    stampRetryable(this, false);
  }
}

export class LMStudioVisionNotSupportedError extends lmStudioErrorBase(
  LangChainError,
  "vision-not-supported",
) {
  override readonly name: string = "LMStudioVisionNotSupportedError";
  constructor(
    readonly model: string,
    readonly visionModels: string[],
    detail?: string,
  ) {
    const options =
      visionModels.length > 0
        ? `Vision-capable models on this server: ${listNames(visionModels)}.`
        : "No vision-capable model is available on this server.";
    super(
      `"${quoteName(model)}" cannot see images. ${options} Set LMSTUDIO_VISION_MODEL to one of them.` +
        (detail ? ` (server said: ${quoteServerText(detail)})` : ""),
    );
    stampRetryable(this, false);
  }
}

export class LMStudioUnreachableError extends lmStudioErrorBase(LangChainError, "unreachable") {
  override readonly name: string = "LMStudioUnreachableError";
  /** The base URL tried, without any `user:password@`. */
  readonly baseUrl: string;
  constructor(
    baseUrl: string,
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(
      `Cannot reach LM Studio at ${withoutCredentials(baseUrl)} (${reason}). Start its server with \`lms server start\` ` +
        "(or LM Studio › Developer › Start Server), or point LMSTUDIO_BASE_URL at the right host and port.",
    );
    this.baseUrl = withoutCredentials(baseUrl);
    if (options?.cause !== undefined) this.cause = options.cause;
    stampRetryable(this, false);
  }
}

/**
 * LM Studio did not answer within a deadline: an SDK call (connect, call, load) or a stream that
 * stalled between chunks. Not retried: a server that stayed silent once would multiply the wait.
 */
export class LMStudioTimeoutError extends lmStudioErrorBase(LangChainError, "timeout") {
  override readonly name: string = "LMStudioTimeoutError";
  constructor(
    readonly operation: string,
    readonly timeoutMs: number,
    options?: { cause?: unknown },
  ) {
    super(
      `LM Studio did not answer ${operation} within ${timeoutMs} ms. It may be overloaded, stuck or stopped; ` +
        "check it is running (`lms status`), or allow more time.",
    );
    if (options?.cause !== undefined) this.cause = options.cause;
    stampRetryable(this, false);
  }
}

/** Any other error LM Studio answered with (4xx/5xx, or an HTTP 200 `event: error` frame). */
export class LMStudioRequestError extends lmStudioErrorBase(LangChainError, "request") {
  override readonly name: string = "LMStudioRequestError";
  constructor(
    message: string,
    readonly status: number | undefined,
    readonly body: unknown,
  ) {
    super(message);
    // 5xx and 429 may pass; anything else is the request's fault and will fail the same way again.
    stampRetryable(this, status === undefined || status >= 500 || status === 429);
  }
}

/** An API token that cannot be sent (a control character, e.g. a newline read along with it from a file). */
export class LMStudioInvalidApiKeyError extends lmStudioErrorBase(LangChainError, "invalid-api-key") {
  override readonly name: string = "LMStudioInvalidApiKeyError";
  constructor(problem: string) {
    // The token itself is never quoted: this message ends up in logs.
    super(
      `The LM Studio API token (apiKey, LM_API_TOKEN or LMSTUDIO_API_KEY) ${problem}. Check how it was set.`,
    );
    stampRetryable(this, false);
  }
}

/** Throws LMStudioInvalidApiKeyError unless `apiKey` (when given) can be sent in a header. */
export function assertSendableApiKey(apiKey: string | undefined): void {
  const problem = apiKey === undefined ? undefined : apiTokenProblem(apiKey);
  if (problem) throw new LMStudioInvalidApiKeyError(problem);
}

/** A 200 response that carried nothing: no content, no tool call, no finish reason. */
export class LMStudioEmptyResponseError extends lmStudioErrorBase(LangChainError, "empty-response") {
  override readonly name: string = "LMStudioEmptyResponseError";
  constructor(model: string | undefined) {
    super(
      `LM Studio returned an empty response${model ? ` for "${model}"` : ""} (no content, no tool call, no ` +
        "finish reason). Some LM Studio builds do this when the prompt overflows the loaded context; check the " +
        "model's loaded context length or enable the context guard.",
    );
    stampRetryable(this, true);
  }
}

/** A chat call with no model: none was passed, LMSTUDIO_MODEL is unset, and `init()` found none loaded. */
export class LMStudioNoModelSelectedError extends lmStudioErrorBase(LangChainError, "no-model-selected") {
  override readonly name: string = "LMStudioNoModelSelectedError";
  constructor() {
    super(
      'ChatLMStudio has no model: pass `model` (e.g. new ChatLMStudio("qwen2.5-7b-instruct")), set ' +
        "LMSTUDIO_MODEL, or use `await ChatLMStudio.fromServer()` to pick the loaded model.",
    );
    stampRetryable(this, false);
  }
}

/**
 * LM Studio 0.4's shared ("unified") KV cache ran out while several predictions were running on one
 * instance: llama.cpp then fails every one of them with `Context size has been exceeded.` (reference
 * §9.3). This is not an overflow of this request's prompt, which may be small; the same request
 * succeeds once the instance is less busy, so it is retryable.
 */
export class LMStudioKvCacheExhaustedError extends lmStudioErrorBase(LangChainError, "kv-cache-exhausted") {
  override readonly name: string = "LMStudioKvCacheExhaustedError";
  constructor(
    readonly model: string | undefined,
    detail: string,
    options?: { cause?: unknown },
  ) {
    super(
      `LM Studio's shared KV cache${model ? ` for "${model}"` : ""} ran out while several requests were running ` +
        "on the same loaded instance, so every request in flight on it failed. Your prompt alone fits; retry when " +
        "fewer requests run, lower the concurrency, enable the context guard (it admits requests only while they " +
        "fit beside the others), or load the model with fewer parallel predictions or useUnifiedKvCache: false. " +
        `(LM Studio said: ${detail})`,
    );
    if (options?.cause !== undefined) this.cause = options.cause;
    stampRetryable(this, true);
  }
}
