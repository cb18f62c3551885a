import { type CatalogModel, quantizationBits } from "./catalog.js";
import { isRecord, modelResolutionError, sendJson } from "./http-util.js";
import { restV1Error, restV1ParamError } from "./http-v1-errors.js";
import { type LlmLoadSettings, restLoadConfig } from "./load-config.js";
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

/** GET /api/v0/models: every downloaded model with its state, whatever the JIT setting (docs: "loaded and downloaded"). */
export function handleV0Models(ctx: RouteContext): void {
  const { state } = ctx;
  const data = [...state.catalog.values()].map((model) =>
    v0Item(
      model,
      model.key,
      state.instances.find((i) => i.model.key === model.key),
    ),
  );
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
    params_string: model.paramsString ?? null,
    loaded_instances: state.instances
      .filter((i) => i.model.key === model.key)
      // `parallel` is the slots the instance really runs (kv-pool); absent for embedding models (§9.2).
      .map((i) => ({
        id: i.identifier,
        config: restLoadConfig(
          i.contextLength,
          i.model.type === "llm" ? { ...i.loadSettings, parallel: i.kv.settings.parallel } : i.loadSettings,
          true,
        ),
      })),
    max_context_length: model.maxContextLength,
    format: model.format,
    ...(model.type === "llm"
      ? {
          capabilities: {
            vision: model.vision,
            trained_for_tool_use: model.trainedForToolUse,
            // The simulator's reasoning models always reason, like the docs' DeepSeek R1 example.
            ...(model.reasoning ? { reasoning: { allowed_options: ["on"], default: "on" } } : {}),
          },
          description: null,
        }
      : {}),
  }));
  sendJson(ctx.res, 200, { models });
}

/** A positive integer or boolean load field of a REST v1 body; a wrong type is an `invalid_request`. */
function loadField(
  body: Record<string, unknown>,
  name: string,
  kind: "int" | "boolean",
): number | boolean | undefined {
  const value = body[name];
  if (value === undefined) return undefined;
  if (kind === "boolean" && typeof value === "boolean") return value;
  if (kind === "int" && typeof value === "number" && Number.isInteger(value) && value > 0) return value;
  throw restV1ParamError(name, kind === "int" ? "must be a positive integer" : "must be a boolean");
}

/**
 * POST /api/v1/models/load {model, context_length?, eval_batch_size?, flash_attention?, num_experts?,
 * offload_kv_cache_to_gpu?, echo_load_config?}. Errors use the `/api/v1` shape.
 */
export async function handleV1Load(ctx: RouteContext): Promise<void> {
  const body = isRecord(ctx.body) ? ctx.body : {};
  if (body.model === undefined) throw restV1ParamError("model", "missing");
  if (typeof body.model !== "string" || body.model === "")
    throw restV1ParamError("model", "must be a non-empty string");
  // LM Studio's load schema has no parallel setting and rejects it (#2024); the wording is inferred.
  if (body.parallel !== undefined) {
    throw restV1Error("invalid_request", "Unrecognized key(s) in object: 'parallel'", {
      code: "unrecognized_keys",
      param: "parallel",
    });
  }
  const contextLength = loadField(body, "context_length", "int") as number | undefined;
  const settings: LlmLoadSettings = {
    evalBatchSize: loadField(body, "eval_batch_size", "int") as number | undefined,
    flashAttention: loadField(body, "flash_attention", "boolean") as boolean | undefined,
    numExperts: loadField(body, "num_experts", "int") as number | undefined,
    offloadKvCacheToGpu: loadField(body, "offload_kv_cache_to_gpu", "boolean") as boolean | undefined,
  };
  const echo = loadField(body, "echo_load_config", "boolean") ?? false;
  const plan = ctx.state.planLoad(body.model, {
    ...(contextLength !== undefined ? { contextLength } : {}),
    settings: Object.fromEntries(Object.entries(settings).filter(([, v]) => v !== undefined)),
  });
  if (isLoadFailure(plan)) {
    if (plan.code === "pathNotFound") {
      throw restV1Error("model_not_found", invalidModelIdentifier(body.model, plan.available), {
        param: "model",
      });
    }
    throw restV1Error("unknown", plan.message);
  }
  const loadMs = ctx.state.loadTimeMs(plan.model);
  await sleep(loadMs);
  const instance = await ctx.state.commitLoad(plan);
  if (isLoadFailure(instance)) throw restV1Error("unknown", instance.message);
  sendJson(ctx.res, 200, {
    type: plan.model.type,
    instance_id: instance.identifier,
    load_time_seconds: loadMs / 1000,
    status: "loaded",
    ...(echo ? { load_config: restLoadConfig(instance.contextLength, instance.loadSettings, false) } : {}),
  });
}

/** POST /api/v1/models/unload {instance_id}. */
export function handleV1Unload(ctx: RouteContext): void {
  const body = isRecord(ctx.body) ? ctx.body : {};
  if (body.instance_id === undefined) throw restV1ParamError("instance_id", "missing");
  if (typeof body.instance_id !== "string") throw restV1ParamError("instance_id", "must be a string");
  if (!ctx.state.unload(body.instance_id)) {
    throw restV1Error("model_not_found", `Cannot find a model with identifier "${body.instance_id}"`, {
      param: "instance_id",
    });
  }
  sendJson(ctx.res, 200, { instance_id: body.instance_id });
}
