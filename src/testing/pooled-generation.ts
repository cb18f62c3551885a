/**
 * Runs one prediction on a loaded instance through its slots and KV pool (kv-pool.ts), with the
 * simulated prompt-processing and decoding time that lets concurrent predictions overlap as they do
 * on a real server. Every API surface (/v1 chat and completions, the SDK's predict) generates here.
 */
import type { GenerateHooks } from "./backend.js";
import type { GenerationRequest, GenerationResult, StreamPiece } from "./generation.js";
import { HttpError } from "./http-util.js";
import {
  CONTEXT_SIZE_EXCEEDED,
  KvCacheExhaustedError,
  type PredictionTiming,
  type SlotLease,
} from "./kv-pool.js";
import type { LoadedInstance } from "./state.js";
import { simulatorTokenPieces } from "./tokenizer.js";

/** The shared KV pool ran out while this prediction was running (every running prediction gets this). */
export interface ExhaustedResult {
  kind: "exhausted";
  message: string;
  /** Whether any token had already gone to the client (then it is an error frame inside the stream). */
  afterFirstToken: boolean;
}

export type PooledResult = GenerationResult | ExhaustedResult;

function sleepUnlessFailed(ms: number, lease: SlotLease): Promise<void> {
  if (ms <= 0) return Promise.resolve();
  return new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    void lease.failed.then(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/**
 * Generates on the instance's engine inside a slot. Engines that decode for real (llama.cpp) report
 * their prompt and pieces through the hooks; the scripted engine answers at once, and its answer is
 * then paced token by token (streamed through `onPiece` when it is plain text) so that the pool sees
 * it grow as a real prediction would.
 */
export async function generateInSlot(
  instance: LoadedInstance,
  request: GenerationRequest,
  timing: PredictionTiming,
  hooks: GenerateHooks & {
    /** The prediction got its slot: how many leading prompt tokens the slot had cached. */
    onPlaced?: (cachedPromptTokens: number) => void;
  } = {},
): Promise<PooledResult> {
  const pool = instance.kv;
  let lease: SlotLease | undefined;
  let sentPiece = false;
  let engineStreamed = false;
  const exhausted = (): ExhaustedResult => ({
    kind: "exhausted",
    message: CONTEXT_SIZE_EXCEEDED,
    afterFirstToken: sentPiece,
  });
  try {
    const result = await instance.engine.generate(request, {
      onPrompt: async (tokens) => {
        lease = await pool.start(tokens);
        hooks.onPlaced?.(lease.cachedPromptTokens);
        await sleepUnlessFailed((lease.processedPromptTokens * timing.prefillMsPer1kTokens) / 1000, lease);
        if (lease.isFailed()) throw new KvCacheExhaustedError();
        return { slot: lease.slot, cachedPromptTokens: lease.cachedPromptTokens };
      },
      onPiece: async (piece, promptTokens) => {
        engineStreamed = true;
        if (lease === undefined || lease.isFailed()) return false;
        // A tiny real model decodes in microseconds; the simulated pace makes predictions overlap.
        await sleepUnlessFailed(timing.decodeMsPerToken * piece.tokens, lease);
        pool.grow(lease, piece.tokens);
        sentPiece = true;
        return (await hooks.onPiece?.(piece, promptTokens)) ?? true;
      },
    });
    if (lease === undefined) return result;
    if (lease.isFailed()) return exhausted();
    if (result.kind !== "text" && result.kind !== "tool_calls") return result;
    if (engineStreamed) return result;
    return await paceScriptedAnswer(result, lease, timing, hooks, () => {
      sentPiece = true;
    });
  } catch (error) {
    if (error instanceof KvCacheExhaustedError) return exhausted();
    throw error;
  } finally {
    if (lease !== undefined) pool.finish(lease);
  }

  async function paceScriptedAnswer(
    result: Extract<GenerationResult, { kind: "text" | "tool_calls" }>,
    held: SlotLease,
    pace: PredictionTiming,
    out: GenerateHooks,
    onSent: () => void,
  ): Promise<PooledResult> {
    // Plain text streams as it "decodes"; tool calls and reasoning go out whole at the end, as before.
    const streamable =
      pace.decodeMsPerToken > 0 &&
      result.kind === "text" &&
      result.reasoning === undefined &&
      !result.content.startsWith("<think>") &&
      out.onPiece !== undefined;
    if (!streamable) {
      for (let i = 0; i < result.completionTokens; i++) {
        await sleepUnlessFailed(pace.decodeMsPerToken, held);
        pool.grow(held, 1);
      }
      return result;
    }
    const pieces: StreamPiece[] = [];
    for (const text of simulatorTokenPieces(result.content)) {
      await sleepUnlessFailed(pace.decodeMsPerToken, held);
      pool.grow(held, 1);
      const piece = { text, tokens: 1 };
      pieces.push(piece);
      onSent();
      if ((await out.onPiece?.(piece, result.promptTokens)) === false) break;
    }
    return { ...result, pieces };
  }
}

/** The error body llama.cpp's server sends for an exhausted pool (HTTP 500, type server_error). */
function exhaustedBody(message: string) {
  return { error: { code: 500, message, type: "server_error" } };
}

/** Before the first token: a plain HTTP 500 response. */
export function kvExhaustedHttpError(message: string): HttpError {
  return new HttpError(500, exhaustedBody(message));
}

/** After the first token: the `data:` frame that ends the stream. */
export function kvExhaustedFrame(message: string): unknown {
  return exhaustedBody(message);
}
