/**
 * The parallel-prediction and KV-cache keys of a load config (reference §9.1), read from a load
 * request and written back for getLoadConfig and the REST listings.
 */
import { positiveInt, readKvStack } from "./kv-config.js";
import type { KvCacheSettings } from "./kv-pool.js";
import type { LoadedInstance } from "./state.js";

export const PARALLEL_KEY = "llm.load.numParallelSessions";
export const UNIFIED_KV_KEY = "llm.load.useUnifiedKvCache";

/** What a load config stack asks for (LLMs only; embedding models have neither key). */
export function kvCacheRequest(
  domain: "llm" | "embedding",
  stack: unknown,
): { parallel?: number; unifiedKvCache?: boolean } {
  if (domain !== "llm") return {};
  const parallel = positiveInt(readKvStack(stack, PARALLEL_KEY));
  const unified = readKvStack(stack, UNIFIED_KV_KEY);
  return {
    ...(parallel !== undefined ? { parallel: Math.min(parallel, 1023) } : {}),
    ...(typeof unified === "boolean" ? { unifiedKvCache: unified } : {}),
  };
}

/** The load-config fields an LLM instance reports (no unified key for MLX). */
export function kvCacheFields(settings: KvCacheSettings): Array<{ key: string; value: unknown }> {
  return [
    { key: PARALLEL_KEY, value: settings.parallel },
    ...(settings.unified !== undefined ? [{ key: UNIFIED_KV_KEY, value: settings.unified }] : []),
  ];
}

/** SDK getInstanceProcessingState: `queued` counts the waiting requests and the running ones (as `lms ps`). */
export function processingState(instance: LoadedInstance | undefined): { status: string; queued: number } {
  if (instance === undefined) return { status: "idle", queued: 0 };
  const running = instance.kv.activeCount;
  const status =
    running === 0 ? "idle" : instance.model.type === "embedding" ? "computingEmbedding" : "generating";
  return { status, queued: running + instance.kv.queuedCount };
}
