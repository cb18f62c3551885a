import { LMStudioRequestError, LMStudioUnreachableError } from "./errors.js";

/**
 * Telling "nothing is listening" apart from "the request failed midway": the first must fail at
 * once with an actionable message (retrying a stopped server only wastes the user's time), the
 * second is transient and worth retrying.
 */

/** Socket error codes that mean the server cannot be reached at all. */
const CONNECT_FAILURE_CODES = new Set([
  "ECONNREFUSED",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "UND_ERR_CONNECT_TIMEOUT",
]);

/**
 * The connect-failure code somewhere in an error's cause chain, or undefined. undici wraps socket
 * errors (`TypeError("fetch failed", { cause })`, sometimes an AggregateError for IPv4+IPv6), and the
 * openai client wraps that again in `APIConnectionError`, so the code can sit several levels deep.
 */
export function connectFailureCode(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 6 && typeof current === "object" && current !== null; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === "string" && CONNECT_FAILURE_CODES.has(code)) return code;
    const errors = (current as { errors?: unknown }).errors;
    if (Array.isArray(errors)) {
      const nested = errors.map(connectFailureCode).find((found) => found !== undefined);
      if (nested) return nested;
    }
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

/**
 * Whether fetch itself refused the URL's port (6666, 6000, 10080, … are on the Fetch standard's list
 * of "bad ports"): no request left the process, so nothing broke and retrying cannot help.
 */
function isBlockedPort(error: unknown): boolean {
  let current: unknown = error;
  for (let depth = 0; depth < 6 && typeof current === "object" && current !== null; depth++) {
    if ((current as { message?: unknown }).message === "bad port") return true;
    current = (current as { cause?: unknown }).cause;
  }
  return false;
}

/** `LMStudioUnreachableError` when the error is a connect failure, otherwise undefined. */
export function unreachableErrorFor(error: unknown, baseUrl: string): LMStudioUnreachableError | undefined {
  if (error instanceof LMStudioUnreachableError) return error;
  if (isBlockedPort(error)) {
    const port = URL.canParse(baseUrl) ? new URL(baseUrl).port : "";
    return new LMStudioUnreachableError(
      baseUrl,
      `fetch refuses to connect to port ${port || "(default)"}, which the Fetch standard blocks as unsafe; no request was sent. Serve LM Studio on another port`,
      { cause: error },
    );
  }
  const code = connectFailureCode(error);
  return code ? new LMStudioUnreachableError(baseUrl, code, { cause: error }) : undefined;
}

/** Codes (anywhere in the cause chain) of a connection that was open and then broke mid-request. */
const DROPPED_CONNECTION_CODES = new Set([
  "ECONNRESET",
  "EPIPE",
  "ETIMEDOUT",
  "UND_ERR_SOCKET",
  "UND_ERR_CLOSED",
  "UND_ERR_HEADERS_TIMEOUT",
  "UND_ERR_BODY_TIMEOUT",
]);

/** What undici and the openai client say when a connection breaks without a code we know. */
const DROPPED_CONNECTION_MESSAGES = /^(terminated|other side closed|socket hang up|Connection error\.)$/;

function droppedConnectionReason(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 6 && typeof current === "object" && current !== null; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === "string" && DROPPED_CONNECTION_CODES.has(code)) return code;
    const message = (current as { message?: unknown }).message;
    if (typeof message === "string" && DROPPED_CONNECTION_MESSAGES.test(message)) return message;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

/**
 * `LMStudioRequestError` (retryable: no status) when a connection that had reached the server broke
 * before the answer was complete (a reset mid-stream, a socket closed under a JSON body), otherwise
 * undefined. Without this the caller sees undici's bare `TypeError: terminated`.
 */
export function droppedConnectionErrorFor(error: unknown, baseUrl: string): LMStudioRequestError | undefined {
  if (error instanceof LMStudioRequestError) return error;
  const reason = droppedConnectionReason(error);
  if (reason === undefined) return undefined;
  const dropped = new LMStudioRequestError(
    `The connection to LM Studio at ${baseUrl} broke before the answer was complete (${reason}). ` +
      "LM Studio may have crashed, unloaded the model or been stopped.",
    undefined,
    undefined,
  );
  dropped.cause = error;
  return dropped;
}
