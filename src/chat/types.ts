import type { BaseChatOpenAIFields, ChatOpenAICompletionsCallOptions } from "@langchain/openai";
import type { ContextGuardLike, OverflowPolicy } from "../context-guard/types.js";
import type { LMStudioSettings } from "../env/env.js";

/**
 * Sampling and loading options LM Studio understands beyond the OpenAI set. Typed here so users
 * need no `modelKwargs`; sent in snake_case (top_k, min_p, repeat_penalty, ttl, draft_model).
 */
export interface LMStudioSamplingOptions {
  /** Sample from the k most likely tokens only. */
  topK?: number;
  /** Drop tokens whose probability is below this fraction of the most likely one. */
  minP?: number;
  /** Penalise repeated tokens (1 = off). */
  repeatPenalty?: number;
  /** Seconds a just-in-time-loaded model stays loaded while idle. */
  ttl?: number;
  /** A smaller model for speculative decoding. */
  draftModel?: string;
}

export interface ChatLMStudioCallOptions extends ChatOpenAICompletionsCallOptions, LMStudioSamplingOptions {
  /** Ask for token usage when streaming; overrides the instance's `streamUsage` for this call. */
  streamUsage?: boolean;
  /** Overrides the instance's overflow policy for this call (only used with a context guard). */
  overflow?: OverflowPolicy;
}

export interface ChatLMStudioFields
  extends Omit<BaseChatOpenAIFields, "apiKey" | "openAIApiKey" | "model">,
    LMStudioSamplingOptions {
  /** LM Studio's OpenAI-compatible URL. Default: LMSTUDIO_BASE_URL ?? LMSTUDIO_HOST ?? http://localhost:1234/v1. */
  baseUrl?: string;
  /** The model key or loaded identifier. Default: LMSTUDIO_MODEL. */
  model?: string;
  /** Bearer token when LM Studio requires authentication. Default: LM_API_TOKEN ?? LMSTUDIO_API_KEY. */
  apiKey?: string;
  /**
   * Keep every prompt inside the model's loaded context: `true` builds a guard for the same server,
   * or pass your own. Off by default.
   */
  contextGuard?: boolean | ContextGuardLike;
  /** What the guard does with a prompt that does not fit. Default "error". */
  overflow?: OverflowPolicy;
  /**
   * The model's chat template ends the prompt with `<think>` (DeepSeek-R1, Qwen3 thinking), so
   * streamed answers start inside the reasoning and only `</think>` appears. Set it so streamed
   * reasoning stays out of the answer; non-streaming answers are recognised without it. Default false.
   */
  templateOpensThink?: boolean;
  /**
   * Longest silence (ms) between two parts of a streamed answer (also for `invoke` with
   * `streaming: true`) before it ends in LMStudioTimeoutError; keep-alive comments do not count.
   * The first part may take up to `timeout` after the headers. Default 60000.
   */
  streamIdleTimeout?: number;
  /**
   * Defaults to use instead of reading the environment (the factories pass `loadConfig(env)`'s,
   * so an explicit `env` is honoured exactly). Never serialised.
   */
  settings?: LMStudioSettings;
}
