import { unreachableErrorFor } from "./connection-errors.js";
import { type ErrorContext, mapLMStudioError } from "./error-mapping.js";
import { LMStudioRequestError } from "./errors.js";

/**
 * One JSON request to LM Studio with its failures already typed: connection failures become
 * `LMStudioUnreachableError` (non-retryable, so callers fail fast instead of backing off against a
 * server that is not running), HTTP errors go through `mapLMStudioError`, and a timeout or a
 * connection dropped mid-request becomes a retryable `LMStudioRequestError`.
 */

export interface LMStudioJsonRequest {
  url: string;
  method?: "GET" | "POST";
  /** Serialised with JSON.stringify unless it is already a string. */
  body?: unknown;
  apiKey?: string;
  /** Per-attempt time limit in milliseconds. */
  timeoutMs?: number;
  signal?: AbortSignal;
  /** The base URL to name in an unreachable-server error. */
  baseUrl: string;
  errorContext?: ErrorContext;
  fetch?: typeof fetch;
}

function parseBody(text: string): unknown {
  if (text === "") return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

export async function fetchLMStudioJson(request: LMStudioJsonRequest): Promise<unknown> {
  const signals: AbortSignal[] = [];
  if (request.signal) signals.push(request.signal);
  const timeout = request.timeoutMs !== undefined ? AbortSignal.timeout(request.timeoutMs) : undefined;
  if (timeout) signals.push(timeout);
  const headers: Record<string, string> = { accept: "application/json" };
  if (request.body !== undefined) headers["content-type"] = "application/json";
  if (request.apiKey) headers.authorization = `Bearer ${request.apiKey}`;

  let response: Response;
  let text: string;
  try {
    response = await (request.fetch ?? fetch)(request.url, {
      method: request.method ?? (request.body === undefined ? "GET" : "POST"),
      headers,
      body:
        request.body === undefined
          ? undefined
          : typeof request.body === "string"
            ? request.body
            : JSON.stringify(request.body),
      signal: signals.length > 0 ? AbortSignal.any(signals) : undefined,
    });
    text = await response.text();
  } catch (error) {
    if (request.signal?.aborted) throw error;
    const unreachable = unreachableErrorFor(error, request.baseUrl);
    if (unreachable) throw unreachable;
    if (timeout?.aborted) {
      throw new LMStudioRequestError(
        `LM Studio did not answer ${request.url} within ${request.timeoutMs} ms`,
        undefined,
        undefined,
      );
    }
    const message = error instanceof Error ? error.message : String(error);
    throw new LMStudioRequestError(`Request to ${request.url} failed: ${message}`, undefined, undefined);
  }

  const body = parseBody(text);
  if (!response.ok) {
    throw mapLMStudioError(response.status, body, request.errorContext);
  }
  return body;
}
