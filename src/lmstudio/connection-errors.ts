import { LMStudioUnreachableError } from "./errors.js";

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

/** `LMStudioUnreachableError` when the error is a connect failure, otherwise undefined. */
export function unreachableErrorFor(error: unknown, baseUrl: string): LMStudioUnreachableError | undefined {
  if (error instanceof LMStudioUnreachableError) return error;
  const code = connectFailureCode(error);
  return code ? new LMStudioUnreachableError(baseUrl, code, { cause: error }) : undefined;
}
