import {
  LMStudioContextOverflowError,
  LMStudioKvCacheExhaustedError,
  LMStudioModelNotFoundError,
  LMStudioNoModelLoadedError,
  LMStudioNotEmbeddingModelError,
  LMStudioRequestError,
  LMStudioVisionNotSupportedError,
  type OverflowDialect,
} from "./errors.js";
import { isGuardInstanceId } from "./guard-instances.js";
import { isKvCacheExhaustion, parseLlamaServerOverflow } from "./kv-cache-errors.js";
import { quoteServerText } from "./quote.js";

/**
 * The one place that knows LM Studio's error wordings (they differ per version and engine; see
 * ../shared/reference/lmstudio-api.md §1.7). Everything else asks `mapLMStudioError`.
 */

interface OverflowPattern {
  dialect: OverflowDialect;
  pattern: RegExp;
  /** Capture groups: 1 = prompt tokens, 2 = context length (when the wording has them). */
  hasNumbers: boolean;
}

const OVERFLOW_PATTERNS: OverflowPattern[] = [
  // The 0.3 wording puts other text between its two numbers; parseContextOverflow reads them in two
  // linear steps (one `.*` between two anchors is quadratic on a body repeating the first anchor).
  { dialect: "lmstudio-0.3", pattern: /Trying to keep the first \d* ?tokens/, hasNumbers: false },
  {
    dialect: "lmstudio-0.4",
    pattern:
      /tokens to keep from the initial prompt is greater than the context length \(n_keep: (\d+)\s*>=\s*n_ctx: (\d+)\)/,
    hasNumbers: true,
  },
  {
    dialect: "lmstudio-0.4",
    pattern: /tokens to keep from the initial prompt is greater than the context length/,
    hasNumbers: false,
  },
  {
    dialect: "lmstudio-0.4.21-stream",
    pattern:
      /Input does not fit in context length\. The input has (\d+) tokens, but the context length only supports (\d+) tokens/,
    hasNumbers: true,
  },
  { dialect: "lmstudio-0.4.21-stream", pattern: /Input does not fit in context length/, hasNumbers: false },
  { dialect: "mlx", pattern: /Context size has been exceeded/, hasNumbers: false },
  {
    dialect: "llama-server",
    pattern: /Cannot truncate prompt with n_keep \((\d+)\) >= n_ctx \((\d+)\)/,
    hasNumbers: true,
  },
];

/** The human-readable message inside any of LM Studio's error body shapes. */
export function errorMessageOf(body: unknown): string | undefined {
  if (typeof body === "string") return body;
  if (typeof body !== "object" || body === null) return undefined;
  const record = body as Record<string, unknown>;
  const error = record.error;
  if (typeof error === "string") return error;
  if (typeof error === "object" && error !== null) {
    const message = (error as Record<string, unknown>).message;
    if (typeof message === "string") return message;
  }
  if (typeof record.message === "string") return record.message;
  return undefined;
}

/**
 * The structured fields of an error object besides its message: `/api/v1`'s
 * `{"error":{"type","message","code"?,"param"?}}` and /v1's OpenAI-style `type`/`code`/`param`.
 */
export function errorDetailsOf(body: unknown): { type?: string; code?: string; param?: string } {
  if (typeof body !== "object" || body === null) return {};
  const error = (body as Record<string, unknown>).error;
  if (typeof error !== "object" || error === null) return {};
  const record = error as Record<string, unknown>;
  const text = (key: string) => (typeof record[key] === "string" ? { [key]: record[key] as string } : {});
  return { ...text("type"), ...text("code"), ...text("param") };
}

export function parseContextOverflow(
  message: string,
): { dialect: OverflowDialect; promptTokens?: number; contextLength?: number } | undefined {
  const legacy = /Trying to keep the first (\d+) tokens/.exec(message);
  if (legacy) {
    const rest = message.slice(legacy.index + legacy[0].length);
    const context = /context length of only (\d+) tokens/.exec(rest);
    if (context) {
      return { dialect: "lmstudio-0.3", promptTokens: Number(legacy[1]), contextLength: Number(context[1]) };
    }
  }
  for (const { dialect, pattern, hasNumbers } of OVERFLOW_PATTERNS) {
    const match = pattern.exec(message);
    if (!match) continue;
    if (!hasNumbers) return { dialect };
    return { dialect, promptTokens: Number(match[1]), contextLength: Number(match[2]) };
  }
  return undefined;
}

/** What went wrong with a model on the server, as the context guard's host reports it. */
export type LMStudioFailureKind =
  | "guardrail"
  | "crash"
  | "out-of-memory"
  | "overflow"
  | "disconnect"
  | "not-found"
  | "load-error";

/**
 * Server and SDK transport texts → failure kinds. Order matters: the crash text also mentions no
 * memory, and both come before the overflow wordings (the same ones `mapLMStudioError` knows).
 */
const FAILURE_MATCHERS: Array<[(text: string) => boolean, LMStudioFailureKind]> = [
  [(t) => /insufficient system resources|guardrail/i.test(t), "guardrail"],
  [(t) => /has crashed|exit code/i.test(t), "crash"],
  [
    (t) => /out of memory|insufficient memory|\boom\b|metal error|failed to allocate/i.test(t),
    "out-of-memory",
  ],
  [(t) => parseContextOverflow(t) !== undefined, "overflow"],
  [
    (t) => /websocket|connection closed|transport disposed|econnrefused|econnreset|socket hang up/i.test(t),
    "disconnect",
  ],
  [
    (t) => /cannot find a model|already been unloaded|not found|no loaded model satisfies/i.test(t),
    "not-found",
  ],
  [(t) => /failed to load model|error loading model/i.test(t), "load-error"],
];

/** The SDK's `displayData.code`s that mean "no such model or instance" (lms-shared-types GenericErrorDisplayData). */
const NOT_FOUND_CODES = new Set([
  "generic.pathNotFound",
  "generic.identifierNotFound",
  "generic.specificModelUnloaded",
  "generic.noModelMatchingQuery",
]);

/**
 * Classifies a failure from LM Studio's structured error fields (an SDK error's `displayData.code`),
 * else from its wording (title, cause or message). Undefined when nothing is recognised.
 */
export function classifyLMStudioFailure(
  texts: ReadonlyArray<string | undefined>,
  displayCode?: string,
): LMStudioFailureKind | undefined {
  if (displayCode !== undefined && NOT_FOUND_CODES.has(displayCode)) return "not-found";
  const text = texts.filter((t): t is string => t !== undefined).join("\n");
  return FAILURE_MATCHERS.find(([matches]) => matches(text))?.[1];
}

const VALID_MODELS_HINT = ". Please specify a valid downloaded model (e.g., ";

/** The text between `opening` (ending in a quote) and the next quote, and where that quote is. */
function quotedAfter(message: string, opening: string): { text: string; end: number } | undefined {
  const start = message.indexOf(opening);
  if (start < 0) return undefined;
  const end = message.indexOf('"', start + opening.length);
  return end < 0 ? undefined : { text: message.slice(start + opening.length, end), end };
}

export interface ErrorContext {
  /** The model the request named, for messages. */
  model?: string;
  /** Vision-capable models, when the caller knows them (for the non-VLM message). */
  visionModels?: string[];
}

/**
 * Maps an LM Studio error (HTTP status plus body or message) to a typed error.
 * Always returns an error: unknown wordings become `LMStudioRequestError` with the server's text.
 */
export function mapLMStudioError(
  status: number | undefined,
  bodyOrMessage: unknown,
  context: ErrorContext = {},
  cause?: Error,
): Error {
  const message = errorMessageOf(bodyOrMessage) ?? (cause?.message || `HTTP ${status ?? "error"}`);

  // Checked before overflow: MLX's overflow uses the same words, but this is not the prompt's fault.
  if (isKvCacheExhaustion(status, bodyOrMessage, message))
    return new LMStudioKvCacheExhaustedError(context.model, message, cause ? { cause } : undefined);

  const llamaServer = parseLlamaServerOverflow(bodyOrMessage, message);
  const overflow =
    parseContextOverflow(message) ?? (llamaServer && { dialect: "llama-server" as const, ...llamaServer });
  if (overflow) {
    const numbers =
      overflow.promptTokens !== undefined
        ? ` The prompt has ${overflow.promptTokens} tokens; the model is loaded with ${overflow.contextLength}.`
        : "";
    return new LMStudioContextOverflowError(
      `The prompt does not fit in the model's loaded context.${numbers} Load the model with a larger ` +
        `context, shorten the input, or enable the context guard. (LM Studio said: ${quoteServerText(message)})`,
      { ...overflow, cause },
    );
  }

  // Found with indexOf, not regexes: a capture up to a quote that never comes would be quadratic on a
  // body repeating the opening words.
  const invalid = quotedAfter(message, 'Invalid model identifier "');
  if (invalid && message.startsWith(VALID_MODELS_HINT, invalid.end + 1)) {
    const list = message.slice(invalid.end + 1 + VALID_MODELS_HINT.length);
    const available = list
      .slice(0, Math.max(0, list.lastIndexOf(")")))
      .split(",")
      .map((name) => name.trim())
      .filter((name) => name !== "" && !isGuardInstanceId(name));
    return new LMStudioModelNotFoundError(invalid.text || (context.model ?? ""), available, message);
  }
  const pathNotFound = quotedAfter(message, 'Cannot find a model with path "');
  if (pathNotFound) return new LMStudioModelNotFoundError(pathNotFound.text, [], message);

  if (/No models loaded/.test(message)) return new LMStudioNoModelLoadedError(message);

  if (/Model is not embedding/.test(message)) {
    const model = quotedAfter(message, 'Failed to load model "')?.text ?? context.model ?? "";
    return new LMStudioNotEmbeddingModelError(model, message);
  }

  if (/Model does not support images/.test(message)) {
    return new LMStudioVisionNotSupportedError(context.model ?? "", context.visionModels ?? [], message);
  }

  // `/api/v1` says what kind of error it is; wordings above win because they carry more detail.
  const details = errorDetailsOf(bodyOrMessage);
  if (details.type === "model_not_found") {
    const named = /model with (?:identifier|path) "([^"]*)"/.exec(message)?.[1];
    return new LMStudioModelNotFoundError(named ?? context.model ?? "", [], message);
  }
  const labels = [details.type, details.code, details.param && `param ${details.param}`].filter(Boolean);

  // The full text stays on `body`; the message is cut so a megabyte error page cannot flood a log.
  return new LMStudioRequestError(
    `LM Studio request failed${status ? ` with HTTP ${status}` : ""}: ${quoteServerText(message)}` +
      (labels.length > 0 ? ` (${quoteServerText(labels.join(", "))})` : ""),
    status,
    bodyOrMessage,
  );
}
