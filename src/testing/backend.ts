/**
 * The seam between the simulator's API surface (HTTP, SDK socket, catalog, faults, error dialects)
 * and whatever produces tokens. Every loaded instance owns one {@link ModelEngine}; the scripted
 * backend answers from rules (generation.ts), the llama.cpp backend (llama-backend.ts) runs a real
 * engine on a generated GGUF model.
 */
import type { CatalogModel } from "./catalog.js";
import { applySimulatorChatTemplate, type ChatTurn, type ToolDefinition } from "./chat-template.js";
import { embedText } from "./embedding-vector.js";
import {
  type GenerationRequest,
  type GenerationResult,
  generate,
  renderPrompt,
  type StreamPiece,
} from "./generation.js";
import type { KvCacheSettings } from "./kv-pool.js";
import { countSimulatorTokens, simulatorTokenize, truncateToTokens } from "./tokenizer.js";

export interface GenerateHooks {
  /**
   * Called with the prompt's tokens once the prompt is known to fit, before it is processed: the
   * caller takes a prediction slot (waiting for one) and answers which slot and how many of the
   * prompt's leading tokens that slot already holds. It throws when the shared KV cache ran out.
   */
  onPrompt?: (tokens: readonly number[]) => Promise<{ slot: number; cachedPromptTokens: number }>;
  /**
   * Receives each piece while a real engine decodes (the scripted engine answers at once and never
   * calls it); resolve false to stop decoding, e.g. when the client has gone.
   */
  onPiece?: (piece: StreamPiece, promptTokens: number) => Promise<boolean>;
}

/** One loaded instance's engine: its tokenizer, prompt format, generation and embeddings. */
export interface ModelEngine {
  tokenize(text: string): number[];
  countTokens(text: string): number;
  /** The prompt text the model sees for these turns (its chat template). */
  applyChatTemplate(turns: readonly ChatTurn[], tools: readonly ToolDefinition[]): string;
  /** The whole answer; with `hooks.onPiece`, pieces also go out as they are decoded. */
  generate(request: GenerationRequest, hooks?: GenerateHooks): Promise<GenerationResult>;
  embed(text: string): Promise<number[]>;
  /** Frees the engine's resources (the instance was unloaded). */
  dispose(): Promise<void>;
}

/** A load the engine itself refused (not one the simulator's rules refused). */
export interface EngineLoadFailure {
  code: "engineFailure";
  message: string;
}

export interface InferenceBackend {
  /** Creates the engine for a load at `contextLength`; a failure when the engine cannot. */
  open(
    model: CatalogModel,
    contextLength: number,
    kvCache: KvCacheSettings,
  ): Promise<ModelEngine | EngineLoadFailure>;
  /** Releases everything the backend holds (the simulator is closing). */
  close(): Promise<void>;
}

/**
 * The rule-based engine DESIGN.md describes: stateless, deterministic. Embeddings read at most the
 * loaded context, and no more than the model's `effectiveContext`: the rest is dropped silently, as
 * LM Studio truncates an over-long embedding input.
 */
export function scriptedEngine(model: CatalogModel, contextLength = model.maxContextLength): ModelEngine {
  const embeddingLimit = Math.min(contextLength, model.effectiveContext);
  return {
    tokenize: simulatorTokenize,
    countTokens: countSimulatorTokens,
    applyChatTemplate: applySimulatorChatTemplate,
    generate: async (request, hooks) => {
      const result = generate(request);
      if (hooks?.onPrompt && (result.kind === "text" || result.kind === "tool_calls"))
        await hooks.onPrompt(simulatorTokenize(renderPrompt(request)));
      return result;
    },
    embed: async (text) => embedText(truncateToTokens(text, embeddingLimit).text, model.embeddingDimensions),
    dispose: async () => undefined,
  };
}

export const scriptedBackend: InferenceBackend = {
  open: async (model, contextLength) => scriptedEngine(model, contextLength),
  close: async () => undefined,
};
