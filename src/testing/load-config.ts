import type { CatalogModel } from "./catalog.js";
import { type KvField, readKvStack } from "./kv-config.js";

/**
 * An LLM instance's load settings besides its context: what `/api/v1/models` reports in
 * `loaded_instances[].config`, load echoes in `load_config`, and `getLoadConfig` returns as KV fields
 * (reference §10; keys and defaults from @lmstudio/sdk 2.0.0's `llm.load` schematics). Embedding
 * models have none of them. `parallel` is modelled here only as a number: how slots behave is the
 * parallel-sessions simulation's business.
 */
export interface LlmLoadSettings {
  /** llama.cpp only. */
  evalBatchSize?: number;
  /** Every LLM engine (GGUF and MLX). */
  parallel?: number;
  /** llama.cpp only. */
  flashAttention?: boolean;
  /** llama.cpp only. */
  offloadKvCacheToGpu?: boolean;
  /** llama.cpp MoE models only. */
  numExperts?: number;
}

/** Simulator defaults: the docs' example batch (512), LM Studio 0.4's 4 parallel slots, the SDK's other defaults. */
const DEFAULT_EVAL_BATCH_SIZE = 512;
const DEFAULT_PARALLEL = 4;
const DEFAULT_FLASH_ATTENTION = false;
const DEFAULT_OFFLOAD_KV_CACHE = true;

/** The settings a load gets: the requested ones where the engine has them, else the defaults. */
export function resolveLoadSettings(model: CatalogModel, requested: LlmLoadSettings = {}): LlmLoadSettings {
  if (model.type !== "llm") return {};
  const parallel = requested.parallel ?? DEFAULT_PARALLEL;
  if (model.format === "mlx") return { parallel };
  return {
    evalBatchSize: requested.evalBatchSize ?? DEFAULT_EVAL_BATCH_SIZE,
    parallel,
    flashAttention: requested.flashAttention ?? DEFAULT_FLASH_ATTENTION,
    offloadKvCacheToGpu: requested.offloadKvCacheToGpu ?? DEFAULT_OFFLOAD_KV_CACHE,
    ...(model.experts !== undefined ? { numExperts: requested.numExperts ?? model.experts } : {}),
  };
}

/** KV keys of the SDK's `llm.load` scope for each setting. */
const KV_KEYS = {
  evalBatchSize: "llm.load.llama.evalBatchSize",
  parallel: "llm.load.numParallelSessions",
  flashAttention: "llm.load.llama.flashAttention",
  offloadKvCacheToGpu: "llm.load.offloadKVCacheToGpu",
  numExperts: "llm.load.numExperts",
} as const satisfies Record<keyof LlmLoadSettings, string>;

/** The settings an SDK load's config stack asks for (values of the wrong type are ignored). */
export function loadSettingsFromKvStack(stack: unknown): LlmLoadSettings {
  const int = (key: string) => {
    const value = readKvStack(stack, key);
    return typeof value === "number" && Number.isInteger(value) && value > 0 ? value : undefined;
  };
  const bool = (key: string) => {
    const value = readKvStack(stack, key);
    return typeof value === "boolean" ? value : undefined;
  };
  const settings: LlmLoadSettings = {
    evalBatchSize: int(KV_KEYS.evalBatchSize),
    parallel: int(KV_KEYS.parallel),
    flashAttention: bool(KV_KEYS.flashAttention),
    offloadKvCacheToGpu: bool(KV_KEYS.offloadKvCacheToGpu),
    numExperts: int(KV_KEYS.numExperts),
  };
  return Object.fromEntries(Object.entries(settings).filter(([, v]) => v !== undefined));
}

/** The settings as `getLoadConfig` KV fields. */
export function loadSettingsKvFields(settings: LlmLoadSettings): KvField[] {
  return (Object.keys(KV_KEYS) as Array<keyof LlmLoadSettings>)
    .filter((name) => settings[name] !== undefined)
    .map((name) => ({ key: KV_KEYS[name], value: settings[name] }));
}

/**
 * The REST form (`context_length` first). `/api/v1/models` includes `parallel`; load's echoed
 * `load_config` does not (the docs list it without, and REST load does not accept it, #2024).
 */
export function restLoadConfig(
  contextLength: number,
  settings: LlmLoadSettings,
  withParallel: boolean,
): Record<string, number | boolean> {
  return {
    context_length: contextLength,
    ...(settings.evalBatchSize !== undefined ? { eval_batch_size: settings.evalBatchSize } : {}),
    ...(withParallel && settings.parallel !== undefined ? { parallel: settings.parallel } : {}),
    ...(settings.flashAttention !== undefined ? { flash_attention: settings.flashAttention } : {}),
    ...(settings.numExperts !== undefined ? { num_experts: settings.numExperts } : {}),
    ...(settings.offloadKvCacheToGpu !== undefined
      ? { offload_kv_cache_to_gpu: settings.offloadKvCacheToGpu }
      : {}),
  };
}
