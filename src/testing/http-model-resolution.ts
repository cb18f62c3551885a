import { HttpError, isRecord, modelResolutionError, validationError } from "./http-util.js";
import { invalidModelIdentifier, NO_MODELS_LOADED, notEmbeddingModel, notLlmModel } from "./messages.js";
import { isLoadFailure, type LoadedInstance, type SimulatorState, sleep } from "./state.js";

/**
 * A request's `ttl` (seconds) in milliseconds: the idle TTL of the instance if this request JIT-loads
 * it (LM Studio 0.3.9+, /v1 and /api/v0 alike). Undefined when absent.
 */
export function requestTtlMs(body: unknown): number | undefined {
  const ttl = isRecord(body) ? body.ttl : undefined;
  if (ttl === undefined || ttl === null) return undefined;
  if (typeof ttl !== "number" || !Number.isFinite(ttl) || ttl <= 0)
    throw validationError("'ttl' field must be a positive number");
  return Math.round(ttl * 1000);
}

/**
 * Finds the instance a /v1 request's `model` names: a loaded identifier, or (with JIT on) a
 * downloaded model key, which is then JIT-loaded at the JIT context (auto-evicting other JIT models)
 * with the request's idle TTL (default 60 min).
 */
export async function resolveHttpInstance(
  state: SimulatorState,
  model: string | undefined,
  domain: "llm" | "embedding",
  ttlMs?: number,
  /** A JIT load's context (native `/api/v1/chat` takes one); the JIT default otherwise. */
  contextLength?: number,
): Promise<LoadedInstance> {
  const instance = await findOrJitLoad(state, model, domain, ttlMs, contextLength);
  if (instance.model.type !== domain) {
    const message =
      domain === "embedding" ? notEmbeddingModel(instance.identifier) : notLlmModel(instance.identifier);
    throw modelResolutionError(message, "model_not_found");
  }
  state.touch(instance);
  return instance;
}

async function findOrJitLoad(
  state: SimulatorState,
  model: string | undefined,
  domain: "llm" | "embedding",
  ttlMs: number | undefined,
  contextLength: number | undefined,
): Promise<LoadedInstance> {
  if (model === undefined || model === "") {
    const any = state.instances.find((i) => i.model.type === domain) ?? state.instances[0];
    if (any) return any;
    throw validationError(NO_MODELS_LOADED);
  }
  const loaded = state.findInstance(model);
  if (loaded) return loaded;

  if (!state.options.jit) {
    if (state.instances.length === 0) throw validationError(NO_MODELS_LOADED);
    throw modelResolutionError(
      invalidModelIdentifier(
        model,
        state.instances.map((i) => i.identifier),
      ),
      "model_not_found",
    );
  }
  const catalogModel = state.catalog.get(model);
  if (!catalogModel) {
    const available = [...new Set([...state.instances.map((i) => i.identifier), ...state.catalog.keys()])];
    throw modelResolutionError(invalidModelIdentifier(model, available), "model_not_found");
  }
  if (catalogModel.type !== domain) {
    // LM Studio refuses before loading, with the same message family.
    const message = domain === "embedding" ? notEmbeddingModel(model) : notLlmModel(model);
    throw modelResolutionError(message, "model_not_found");
  }
  const plan = state.planLoad(model, {
    jit: true,
    ...(ttlMs !== undefined ? { ttlMs } : {}),
    ...(contextLength !== undefined ? { contextLength } : {}),
  });
  if (isLoadFailure(plan)) throw new HttpError(400, { error: plan.message });
  // Concurrent requests for a model that is still loading share that load (the engine's load is async).
  let inFlight = jitLoadsInFlight.get(state);
  if (inFlight === undefined) {
    inFlight = new Map();
    jitLoadsInFlight.set(state, inFlight);
  }
  const pending = inFlight.get(model);
  if (pending) return pending;
  const loading = (async () => {
    await sleep(state.loadTimeMs(catalogModel));
    const again = state.findInstance(model);
    if (again) return again;
    state.evictOtherJitModels();
    const instance = await state.commitLoad(plan);
    if (isLoadFailure(instance)) throw new HttpError(400, { error: instance.message });
    return instance;
  })();
  inFlight.set(model, loading);
  try {
    return await loading;
  } finally {
    inFlight.delete(model);
  }
}

const jitLoadsInFlight = new WeakMap<SimulatorState, Map<string, Promise<LoadedInstance>>>();
