import type { SimulatedModelSpec } from "./types.js";

/** A catalog entry with every optional field filled in. */
export interface CatalogModel {
  key: string;
  type: "llm" | "embedding";
  maxContextLength: number;
  loadLimit: number;
  effectiveContext: number;
  fillLimit: number;
  autoFitTo: number | undefined;
  vision: boolean;
  trainedForToolUse: boolean;
  reasoning: boolean;
  sizeBytes: number;
  format: "gguf" | "mlx";
  loadTimeMs: number;
  embeddingDimensions: number;
  displayName: string;
  publisher: string;
  architecture: string;
  quantization: string;
  paramsString: string | undefined;
  experts: number | undefined;
  reasoningField: "reasoning_content" | "reasoning";
  /** File path relative to the models folder, as LM Studio reports it. */
  path: string;
  /** The GGUF file a llama.cpp backend runs (undefined: scripted). */
  gguf: string | undefined;
}

export const DEFAULT_MODELS: readonly SimulatedModelSpec[] = [
  {
    key: "qwen2.5-7b-instruct",
    type: "llm",
    maxContextLength: 32768,
    trainedForToolUse: true,
    sizeBytes: 4_683_073_952,
    displayName: "Qwen2.5 7B Instruct",
    publisher: "lmstudio-community",
    architecture: "qwen2",
    quantization: "Q4_K_M",
    paramsString: "7B",
    loadTimeMs: 200,
  },
  {
    key: "qwen2-vl-2b-instruct",
    type: "llm",
    maxContextLength: 32768,
    vision: true,
    sizeBytes: 1_710_000_000,
    displayName: "Qwen2 VL 2B Instruct",
    publisher: "lmstudio-community",
    architecture: "qwen2vl",
    quantization: "Q4_K_M",
    paramsString: "2B",
    loadTimeMs: 150,
  },
  {
    key: "text-embedding-nomic-embed-text-v1.5",
    type: "embedding",
    maxContextLength: 2048,
    embeddingDimensions: 768,
    sizeBytes: 84_106_624,
    displayName: "Nomic Embed Text v1.5",
    publisher: "nomic-ai",
    architecture: "nomic-bert",
    quantization: "Q4_K_M",
    loadTimeMs: 50,
  },
];

function titleCase(key: string): string {
  return key
    .split(/[-_/]/)
    .filter((w) => w.length > 0)
    .map((w) => w[0]!.toUpperCase() + w.slice(1))
    .join(" ");
}

export function resolveModelSpec(spec: SimulatedModelSpec): CatalogModel {
  const loadLimit = spec.loadLimit ?? spec.maxContextLength;
  const format = spec.format ?? "gguf";
  const quantization = spec.quantization ?? (format === "mlx" ? "4bit" : "Q4_K_M");
  const publisher = spec.publisher ?? "lmstudio-community";
  const fileName = format === "mlx" ? "model.safetensors" : `${spec.key}-${quantization}.gguf`;
  return {
    key: spec.key,
    type: spec.type,
    maxContextLength: spec.maxContextLength,
    loadLimit,
    effectiveContext: spec.effectiveContext ?? loadLimit,
    fillLimit: spec.fillLimit ?? loadLimit,
    autoFitTo: spec.autoFitTo,
    vision: spec.vision ?? false,
    trainedForToolUse: spec.trainedForToolUse ?? false,
    reasoning: spec.reasoning ?? false,
    sizeBytes: spec.sizeBytes ?? 4_000_000_000,
    format,
    loadTimeMs: spec.loadTimeMs ?? 100,
    embeddingDimensions: spec.embeddingDimensions ?? 768,
    displayName: spec.displayName ?? titleCase(spec.key),
    publisher,
    architecture: spec.architecture ?? (spec.type === "embedding" ? "nomic-bert" : "llama"),
    quantization,
    paramsString: spec.paramsString,
    experts: spec.experts,
    reasoningField: spec.reasoningField ?? "reasoning_content",
    path: `${publisher}/${spec.key}-${format.toUpperCase()}/${fileName}`,
    gguf: spec.gguf,
  };
}

/** Bits per weight implied by a quantization name such as "Q4_K_M", "4bit" or "F16". */
export function quantizationBits(name: string): number {
  const match = /(\d+)/.exec(name);
  return match ? Number(match[1]) : 16;
}
