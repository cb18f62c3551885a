import type { CatalogModel } from "./catalog.js";
import { quantizationBits } from "./catalog.js";
import type { LoadedInstance } from "./state.js";

/** Fields every SDK 2.0.0 ModelInfoBase needs (missing ones make the SDK drop the message and hang). */
function baseInfo(model: CatalogModel) {
  return {
    modelKey: model.key,
    // SDK 2.0.0 has no "mlx" format: MLX models are reported as safetensors.
    format: model.format === "mlx" ? "safetensors" : "gguf",
    displayName: model.displayName,
    publisher: model.publisher,
    path: model.path,
    sizeBytes: model.sizeBytes,
    indexedModelIdentifier: model.path,
    deviceIdentifier: null,
    ...(model.paramsString !== undefined ? { paramsString: model.paramsString } : {}),
    architecture: model.architecture,
    quantization: { name: model.quantization, bits: quantizationBits(model.quantization) },
  };
}

export function llmInfo(model: CatalogModel) {
  return {
    type: "llm" as const,
    ...baseInfo(model),
    vision: model.vision,
    trainedForToolUse: model.trainedForToolUse,
    maxContextLength: model.maxContextLength,
  };
}

export function embeddingInfo(model: CatalogModel) {
  return { type: "embedding" as const, ...baseInfo(model), maxContextLength: model.maxContextLength };
}

export function modelInfo(model: CatalogModel) {
  return model.type === "llm" ? llmInfo(model) : embeddingInfo(model);
}

export function instanceInfo(instance: LoadedInstance) {
  return {
    ...modelInfo(instance.model),
    identifier: instance.identifier,
    instanceReference: instance.instanceReference,
    ttlMs: instance.ttlMs,
    lastUsedTime: instance.lastUsedTime,
    contextLength: instance.contextLength,
  };
}
