import { LMStudioRequestError } from "./errors.js";
import { fetchLMStudioJson } from "./fetch-json.js";
import { serverOrigin } from "./urls.js";

/**
 * What LM Studio says about its models, from the native REST API: `/api/v1/models` (0.4+), falling
 * back to `/api/v0/models` (0.3.6+). `/v1/models` cannot be used: it has no context length, type or
 * capabilities (lmstudio-api.md §1.2).
 */

export interface LMStudioLoadedInstance {
  /** The identifier to send as `model` to reach this instance. */
  id: string;
  /** The context the instance was actually loaded with (may differ from what was asked). */
  contextLength?: number;
}

export interface LMStudioModelInfo {
  key: string;
  type: "llm" | "embedding";
  vision: boolean;
  toolUse: boolean;
  maxContextLength?: number;
  loadedInstances: LMStudioLoadedInstance[];
}

export interface ModelInfoRequest {
  /** The OpenAI-compatible base URL (…/v1); the REST routes live on the same origin. */
  baseUrl: string;
  apiKey?: string;
  signal?: AbortSignal;
  timeoutMs?: number;
  fetch?: typeof fetch;
}

type JsonRecord = Record<string, unknown>;

function asRecord(value: unknown): JsonRecord | undefined {
  return typeof value === "object" && value !== null && !Array.isArray(value)
    ? (value as JsonRecord)
    : undefined;
}

function asArray(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

function positiveNumber(value: unknown): number | undefined {
  return typeof value === "number" && Number.isFinite(value) && value > 0 ? value : undefined;
}

/** One model of `GET /api/v1/models` → `{ models: [...] }`. */
function fromV1(entry: JsonRecord): LMStudioModelInfo | undefined {
  if (typeof entry.key !== "string") return undefined;
  const capabilities = asRecord(entry.capabilities) ?? {};
  return {
    key: entry.key,
    type: entry.type === "embedding" || entry.type === "embeddings" ? "embedding" : "llm",
    vision: capabilities.vision === true,
    toolUse: capabilities.trained_for_tool_use === true,
    maxContextLength: positiveNumber(entry.max_context_length),
    loadedInstances: asArray(entry.loaded_instances).flatMap((raw) => {
      const instance = asRecord(raw);
      if (!instance || typeof instance.id !== "string") return [];
      return [{ id: instance.id, contextLength: positiveNumber(asRecord(instance.config)?.context_length) }];
    }),
  };
}

/** One model of `GET /api/v0/models` → `{ data: [...] }` (type "vlm" marks vision; one loaded context). */
function fromV0(entry: JsonRecord): LMStudioModelInfo | undefined {
  if (typeof entry.id !== "string") return undefined;
  const capabilities = asArray(entry.capabilities);
  const loaded = entry.state === "loaded";
  return {
    key: entry.id,
    type: entry.type === "embeddings" || entry.type === "embedding" ? "embedding" : "llm",
    vision: entry.type === "vlm",
    toolUse: capabilities.includes("tool_use"),
    maxContextLength: positiveNumber(entry.max_context_length),
    loadedInstances: loaded
      ? [{ id: entry.id, contextLength: positiveNumber(entry.loaded_context_length) }]
      : [],
  };
}

/** Every model LM Studio knows (downloaded, and which instances are loaded). */
export async function listLMStudioModels(request: ModelInfoRequest): Promise<LMStudioModelInfo[]> {
  const origin = serverOrigin(request.baseUrl);
  const common = {
    baseUrl: request.baseUrl,
    apiKey: request.apiKey,
    signal: request.signal,
    timeoutMs: request.timeoutMs,
    fetch: request.fetch,
  };
  try {
    const body = asRecord(await fetchLMStudioJson({ ...common, url: `${origin}/api/v1/models` }));
    if (body && Array.isArray(body.models)) {
      return body.models.flatMap((raw) => {
        const entry = asRecord(raw);
        const info = entry ? fromV1(entry) : undefined;
        return info ? [info] : [];
      });
    }
  } catch (error) {
    // Only "this server has no /api/v1" falls back; unreachable, auth and abort errors are final.
    const status = error instanceof LMStudioRequestError ? error.status : undefined;
    if (status !== 404 && status !== 405) throw error;
  }
  const body = asRecord(await fetchLMStudioJson({ ...common, url: `${origin}/api/v0/models` }));
  return asArray(body?.data).flatMap((raw) => {
    const entry = asRecord(raw);
    const info = entry ? fromV0(entry) : undefined;
    return info ? [info] : [];
  });
}

/**
 * The model a request names: matched by key or by a loaded instance's identifier (`key:2`).
 * Undefined when the server does not know it.
 */
export function findModelInfo(models: LMStudioModelInfo[], model: string): LMStudioModelInfo | undefined {
  return (
    models.find((info) => info.key === model) ??
    models.find((info) => info.loadedInstances.some((instance) => instance.id === model))
  );
}

/** The context the named model is loaded with right now (the instance named, else the first one). */
export function loadedContextLength(info: LMStudioModelInfo, model: string): number | undefined {
  const instance =
    info.loadedInstances.find((candidate) => candidate.id === model) ?? info.loadedInstances[0];
  return instance?.contextLength;
}

/** Keys of vision-capable models, for messages that suggest one. */
export function visionModelKeys(models: LMStudioModelInfo[]): string[] {
  return models.filter((info) => info.type === "llm" && info.vision).map((info) => info.key);
}
