import { type CatalogModel, paramsString, quantizationBits } from "./catalog.js";
import {
  HttpError,
  modelResolutionError,
  optionalBoolean,
  requireObjectBody,
  sendJson,
  validationError,
} from "./http-util.js";
import { invalidModelIdentifier } from "./messages.js";
import type { RouteContext } from "./route-context.js";
import { isLoadFailure, type LoadedInstance, sleep } from "./state.js";

function v0Item(model: CatalogModel, id: string, instance: LoadedInstance | undefined) {
  return {
    id,
    object: "model",
    type: model.type === "embedding" ? "embeddings" : model.vision ? "vlm" : "llm",
    publisher: model.publisher,
    arch: model.architecture,
    compatibility_type: model.format,
    quantization: model.quantization,
    state: instance ? "loaded" : "not-loaded",
    max_context_length: model.maxContextLength,
    ...(instance ? { loaded_context_length: instance.contextLength } : {}),
    capabilities: model.trainedForToolUse ? ["tool_use"] : [],
  };
}

/** GET /api/v0/models: downloaded models with state (only loaded ones when JIT is off). */
export function handleV0Models(ctx: RouteContext): void {
  const { state } = ctx;
  const data = [...state.catalog.values()]
    .map((model) =>
      v0Item(
        model,
        model.key,
        state.instances.find((i) => i.model.key === model.key),
      ),
    )
    .filter((item) => state.options.jit || item.state === "loaded");
  sendJson(ctx.res, 200, { object: "list", data });
}

/** GET /api/v0/models/{id}: a model key or a loaded instance identifier. */
export function handleV0Model(ctx: RouteContext, id: string): void {
  const { state } = ctx;
  const instance = state.findInstance(id);
  if (instance) {
    sendJson(ctx.res, 200, v0Item(instance.model, id, instance));
    return;
  }
  const model = state.catalog.get(id);
  if (!model)
    throw modelResolutionError(invalidModelIdentifier(id, [...state.catalog.keys()]), "model_not_found");
  sendJson(
    ctx.res,
    200,
    v0Item(
      model,
      id,
      state.instances.find((i) => i.model.key === id),
    ),
  );
}

/** GET /api/v1/models. */
export function handleV1Models(ctx: RouteContext): void {
  const { state } = ctx;
  const models = [...state.catalog.values()].map((model) => ({
    type: model.type,
    publisher: model.publisher,
    key: model.key,
    display_name: model.displayName,
    ...(model.type === "llm" ? { architecture: model.architecture } : {}),
    quantization: { name: model.quantization, bits_per_weight: quantizationBits(model.quantization) },
    size_bytes: model.sizeBytes,
    params_string: paramsString(model),
    loaded_instances: state.instances
      .filter((i) => i.model.key === model.key)
      .map((i) => ({
        id: i.identifier,
        // `parallel` is "absent for embedding models" (reference §9.2); the unified flag is never listed.
        config: {
          context_length: i.contextLength,
          ...(i.model.type === "llm" ? { parallel: i.kv.settings.parallel } : {}),
        },
      })),
    max_context_length: model.maxContextLength,
    format: model.format,
    ...(model.type === "llm"
      ? {
          capabilities: { vision: model.vision, trained_for_tool_use: model.trainedForToolUse },
          description: null,
        }
      : {}),
  }));
  sendJson(ctx.res, 200, { models });
}

/** POST /api/v1/models/load {model, context_length?, echo_load_config?}. */
export async function handleV1Load(ctx: RouteContext): Promise<void> {
  const body = requireObjectBody(ctx.body);
  if (typeof body.model !== "string" || body.model === "")
    throw validationError("'model' field must be a string");
  const contextLength = body.context_length;
  if (
    contextLength !== undefined &&
    (typeof contextLength !== "number" || !Number.isInteger(contextLength) || contextLength < 1)
  ) {
    throw validationError("'context_length' field must be a positive integer");
  }
  const echo = optionalBoolean(body, "echo_load_config") ?? false;
  const plan = ctx.state.planLoad(body.model, contextLength !== undefined ? { contextLength } : {});
  if (isLoadFailure(plan)) {
    if (plan.code === "pathNotFound") {
      throw modelResolutionError(invalidModelIdentifier(body.model, plan.available), "model_not_found");
    }
    throw new HttpError(400, { error: plan.message });
  }
  const loadMs = ctx.state.loadTimeMs(plan.model);
  await sleep(loadMs);
  const instance = await ctx.state.commitLoad(plan);
  if (isLoadFailure(instance)) throw new HttpError(400, { error: instance.message });
  sendJson(ctx.res, 200, {
    type: plan.model.type,
    instance_id: instance.identifier,
    load_time_seconds: loadMs / 1000,
    status: "loaded",
    ...(echo ? { load_config: { context_length: instance.contextLength } } : {}),
  });
}

/** POST /api/v1/models/unload {instance_id}. */
export function handleV1Unload(ctx: RouteContext): void {
  const body = requireObjectBody(ctx.body);
  if (typeof body.instance_id !== "string") throw validationError("'instance_id' field must be a string");
  if (!ctx.state.unload(body.instance_id)) {
    throw validationError(`Cannot find a model with identifier "${body.instance_id}"`, 404);
  }
  sendJson(ctx.res, 200, { instance_id: body.instance_id });
}
