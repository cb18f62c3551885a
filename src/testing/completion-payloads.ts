import type { GenerationResult, StreamPiece } from "./generation.js";
import type { LoadedInstance } from "./state.js";
import { countSimulatorTokens, simulatorTokenPieces } from "./tokenizer.js";

/** Extra fields /api/v0 adds to completion bodies (reference §2.1). */
export function restV0Extras(instance: LoadedInstance, result: GenerationResult): Record<string, unknown> {
  const completionTokens = "completionTokens" in result ? result.completionTokens : 0;
  const stopReason =
    result.kind === "tool_calls"
      ? "toolCalls"
      : result.kind === "text" && result.finishReason === "length"
        ? "maxPredictedTokensReached"
        : "eosFound";
  const model = instance.model;
  return {
    stats: {
      tokens_per_second: 50,
      time_to_first_token: 0.1,
      generation_time: completionTokens / 50,
      stop_reason: stopReason,
    },
    model_info: {
      arch: model.architecture,
      quant: model.quantization,
      format: model.format,
      context_length: instance.contextLength,
    },
    runtime: {
      name: model.format === "mlx" ? "mlx-llm-mac-arm64-apple-metal-advsimd" : "llama.cpp-linux-x86_64-avx2",
      version: "1.50.0",
      supported_formats: [model.format],
    },
  };
}

export function usageOf(result: GenerationResult): {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
} {
  const completion = "completionTokens" in result ? result.completionTokens : 0;
  return {
    prompt_tokens: result.promptTokens,
    completion_tokens: completion,
    total_tokens: result.promptTokens + completion,
  };
}

let idCounter = 0;
/** LM Studio-looking ids ("chatcmpl-" + 22 lowercase alphanumerics). */
export function completionId(prefix: string): string {
  idCounter += 1;
  const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
  let out = "";
  let n = idCounter * 2_654_435_761 + Date.now();
  for (let i = 0; i < 22; i++) {
    out += alphabet[n % alphabet.length];
    n = Math.floor(n / alphabet.length) + (i + 1) * 7919 * idCounter;
  }
  return `${prefix}-${out}`;
}

/** Groups text into stream fragments of a few tokens each. */
export function streamPieces(pieces: readonly string[], perChunk = 3): string[] {
  const out: string[] = [];
  for (let i = 0; i < pieces.length; i += perChunk) out.push(pieces.slice(i, i + perChunk).join(""));
  return out;
}

/**
 * The stream fragments of an answer: the engine's own pieces when it has them (one per decoded
 * token), else groups of a few simulator tokens.
 */
export function contentFragments(result: { content: string; pieces?: StreamPiece[] }): StreamPiece[] {
  return (
    result.pieces ??
    streamPieces(simulatorTokenPieces(result.content)).map((text) => ({
      text,
      tokens: countSimulatorTokens(text),
    }))
  );
}
