import { HttpError, isRecord } from "./http-util.js";

/**
 * `/api/v1` error bodies: `{"error":{"type","message","code"?,"param"?}}` (reference §10; the docs'
 * `error` streaming event has the same object). The type list is the docs'; which status goes with
 * which type is not documented (chosen here: 404 for the not-found types, 500 for internal errors,
 * else 400).
 */
export type RestV1ErrorType =
  | "invalid_request"
  | "unknown"
  | "not_implemented"
  | "model_not_found"
  | "job_not_found"
  | "internal_error";

export interface RestV1ErrorBody {
  error: { type: RestV1ErrorType; message: string; code?: string; param?: string };
}

export function restV1ErrorBody(
  type: RestV1ErrorType,
  message: string,
  details: { code?: string; param?: string } = {},
): RestV1ErrorBody {
  return { error: { type, message, ...details } };
}

function statusFor(type: RestV1ErrorType): number {
  if (type === "model_not_found" || type === "job_not_found") return 404;
  if (type === "internal_error") return 500;
  if (type === "not_implemented") return 501;
  return 400;
}

export function restV1Error(
  type: RestV1ErrorType,
  message: string,
  details: { code?: string; param?: string } = {},
): HttpError {
  return new HttpError(statusFor(type), restV1ErrorBody(type, message, details));
}

/** `"<param>" is required` (the docs' example) for a missing field, else a type error naming it. */
export function restV1ParamError(param: string, problem: "missing" | string): HttpError {
  return problem === "missing"
    ? restV1Error("invalid_request", `"${param}" is required`, { code: "missing_required_parameter", param })
    : restV1Error("invalid_request", `"${param}" ${problem}`, { code: "invalid_type", param });
}

/**
 * Any error body in `/api/v1` form: the `{"error":"<text>"}` validation shape and the /v1
 * model-resolution object become `invalid_request` / `model_not_found`; v1 bodies pass unchanged.
 */
export function asRestV1ErrorBody(body: unknown): unknown {
  if (!isRecord(body)) return body;
  const error = body.error;
  if (typeof error === "string") return restV1ErrorBody("invalid_request", error);
  if (!isRecord(error) || typeof error.message !== "string") return body;
  if (REST_V1_TYPES.has(String(error.type))) return body;
  const type = error.code === "model_not_found" ? "model_not_found" : "invalid_request";
  return restV1ErrorBody(type, error.message, typeof error.param === "string" ? { param: error.param } : {});
}

const REST_V1_TYPES = new Set<string>([
  "invalid_request",
  "unknown",
  "mcp_connection_error",
  "plugin_connection_error",
  "not_implemented",
  "model_not_found",
  "job_not_found",
  "internal_error",
]);
