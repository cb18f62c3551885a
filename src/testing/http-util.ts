import type { IncomingMessage, ServerResponse } from "node:http";

/** An error response a route handler throws; the router turns it into the HTTP reply. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: unknown,
  ) {
    super(typeof body === "string" ? body : JSON.stringify(body));
  }
}

/** LM Studio's validation/engine error shape: `{"error":"<string>"}`, status 400. */
export function validationError(message: string, status = 400): HttpError {
  return new HttpError(status, { error: message });
}

/** LM Studio's model-resolution error shape. */
export function modelResolutionError(message: string, code: "model_not_found" | null): HttpError {
  return new HttpError(400, { error: { message, type: "invalid_request_error", param: "model", code } });
}

/** Headers every LM Studio (Express) response carries. */
export function setCommonHeaders(res: ServerResponse): void {
  res.setHeader("X-Powered-By", "Express");
  res.setHeader("Access-Control-Allow-Origin", "*");
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  const text = JSON.stringify(body);
  res.statusCode = status;
  res.setHeader("Content-Type", "application/json; charset=utf-8");
  res.setHeader("Content-Length", Buffer.byteLength(text));
  res.end(text);
}

export async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req)
    chunks.push(typeof chunk === "string" ? Buffer.from(chunk) : (chunk as Buffer));
  return Buffer.concat(chunks).toString("utf8");
}

/** Parses a JSON request body; a malformed one is a 400 in the validation shape, never a crash. */
export function parseJsonBody(raw: string): unknown {
  if (raw.trim() === "") return {};
  try {
    return JSON.parse(raw) as unknown;
  } catch (error) {
    throw validationError(`Invalid JSON in request body: ${(error as Error).message}`);
  }
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The body as an object, or LM Studio's validation error. */
export function requireObjectBody(body: unknown): Record<string, unknown> {
  if (!isRecord(body)) throw validationError("Request body must be a JSON object");
  return body;
}

export function optionalString(body: Record<string, unknown>, field: string): string | undefined {
  const value = body[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "string") throw validationError(`'${field}' field must be a string`);
  return value;
}

export function optionalNonNegativeInt(body: Record<string, unknown>, field: string): number | undefined {
  const value = body[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "number" || !Number.isInteger(value))
    throw validationError(`'${field}' field must be an integer`);
  // LM Studio treats -1 as "no limit".
  return value < 0 ? undefined : value;
}

export function optionalBoolean(body: Record<string, unknown>, field: string): boolean | undefined {
  const value = body[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "boolean") throw validationError(`'${field}' field must be a boolean`);
  return value;
}
