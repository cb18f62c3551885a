import { AIMessage, AIMessageChunk, type BaseMessage, type UsageMetadata } from "@langchain/core/messages";
import type { OpenAIClient } from "@langchain/openai";
import { splitThinkTags } from "./think-tag-splitter.js";

/**
 * LM Studio specifics of reading a response: where reasoning arrives (`reasoning_content`,
 * gpt-oss's `reasoning`, or inline `<think>` tags) and the metadata LangChain expects
 * (`response_metadata.model`, which ChatOpenAI does not set, and the provider name).
 */

export const MODEL_PROVIDER = "lmstudio";

/** LM Studio adds fields the OpenAI types do not know. */
interface ReasoningFields {
  reasoning_content?: unknown;
  reasoning?: unknown;
}

/** The separate reasoning field, whichever name the server used. */
export function separateReasoningOf(fields: ReasoningFields): string | undefined {
  if (typeof fields.reasoning_content === "string") return fields.reasoning_content;
  if (typeof fields.reasoning === "string") return fields.reasoning;
  return undefined;
}

export function usageMetadataOf(usage: OpenAIClient.CompletionUsage | undefined): UsageMetadata | undefined {
  if (!usage) return undefined;
  const reasoningTokens = usage.completion_tokens_details?.reasoning_tokens;
  const cachedTokens = usage.prompt_tokens_details?.cached_tokens;
  return {
    input_tokens: usage.prompt_tokens ?? 0,
    output_tokens: usage.completion_tokens ?? 0,
    total_tokens: usage.total_tokens ?? (usage.prompt_tokens ?? 0) + (usage.completion_tokens ?? 0),
    ...(typeof cachedTokens === "number" ? { input_token_details: { cache_read: cachedTokens } } : {}),
    ...(typeof reasoningTokens === "number" ? { output_token_details: { reasoning: reasoningTokens } } : {}),
  };
}

/** Reasoning under the name @langchain/openai's converters read (`reasoning_content`), when it is text. */
function withReasoningContent<T extends object>(fields: T): T {
  const separate = separateReasoningOf(fields as ReasoningFields);
  const { reasoning_content: _unread, ...rest } = fields as T & ReasoningFields;
  return (separate === undefined ? rest : { ...rest, reasoning_content: separate }) as T;
}

/**
 * A non-streaming answer in the shape ChatOpenAICompletions converts: a choice's message is the
 * assistant's whatever `role` says (or omits; converted by role, a missing one would come back as a
 * generic ChatMessage), gpt-oss's `reasoning` is read as `reasoning_content`, and a choice without a
 * message (or a `choices` that is not a list) is no answer. A body that is not an object (empty or
 * primitive 200) passes unchanged: the parent finds no choices in it either.
 */
export function toOpenAICompletion(
  raw: OpenAIClient.Chat.Completions.ChatCompletion,
): OpenAIClient.Chat.Completions.ChatCompletion {
  if (typeof raw !== "object" || raw === null) return raw;
  const choices = (Array.isArray(raw.choices) ? raw.choices : [])
    .filter((choice) => typeof choice?.message === "object" && choice.message !== null)
    .map((choice) => ({
      ...choice,
      message: { ...withReasoningContent(choice.message), role: "assistant" as const },
    }));
  return { ...raw, choices };
}

/**
 * One streamed frame, with reasoning named as in {@link toOpenAICompletion}. A stream is the
 * assistant's answer whether or not its deltas name a role (some servers never do; the parent would
 * otherwise convert role-less deltas to generic chunks and the answer would look empty).
 */
export function toOpenAICompletionChunk(
  raw: OpenAIClient.Chat.Completions.ChatCompletionChunk,
): OpenAIClient.Chat.Completions.ChatCompletionChunk {
  if (!Array.isArray(raw?.choices)) return raw;
  const choices = raw.choices.map((choice) =>
    choice?.delta
      ? { ...choice, delta: { ...withReasoningContent(choice.delta), role: "assistant" as const } }
      : choice,
  );
  return { ...raw, choices };
}

/**
 * Rebuilds the parent's converted non-streaming message with reasoning moved out of the text and
 * LM Studio's metadata. `converted` comes from ChatOpenAICompletions (tool calls already parsed, the
 * raw usage and model name in `response_metadata`).
 */
export function toLMStudioAIMessage(converted: BaseMessage, finishReason: unknown): BaseMessage {
  if (!AIMessage.isInstance(converted)) return converted;
  const reasoningParts: string[] = [];
  const separate = converted.additional_kwargs.reasoning_content;
  if (typeof separate === "string" && separate) reasoningParts.push(separate);

  let content = converted.content;
  if (typeof content === "string" && content.includes("think>")) {
    const split = splitThinkTags(content);
    if (split.reasoning) reasoningParts.push(split.reasoning);
    content = split.content;
  }

  const additional_kwargs = { ...converted.additional_kwargs };
  delete additional_kwargs.reasoning_content;
  if (reasoningParts.length > 0) additional_kwargs.reasoning_content = reasoningParts.join("\n");
  const { usage, model_name: model } = converted.response_metadata as {
    usage?: OpenAIClient.CompletionUsage;
    model_name?: string;
  };

  return new AIMessage({
    content,
    id: converted.id,
    tool_calls: converted.tool_calls,
    invalid_tool_calls: converted.invalid_tool_calls,
    additional_kwargs,
    // The parent copies the usage object even when the server sent none.
    usage_metadata: usageMetadataOf(usage && Object.keys(usage).length > 0 ? usage : undefined),
    response_metadata: {
      ...converted.response_metadata,
      model_provider: MODEL_PROVIDER,
      model,
      model_name: model,
      ...(finishReason ? { finish_reason: finishReason } : {}),
    },
  });
}

/**
 * The trailing usage-only chunk of a stream that asked for `include_usage`. `model` is given only
 * when no earlier chunk carried it (metadata strings concatenate when chunks merge).
 */
export function usageChunk(usage: OpenAIClient.CompletionUsage, model?: string): AIMessageChunk {
  return new AIMessageChunk({
    content: "",
    usage_metadata: usageMetadataOf(usage),
    response_metadata: {
      model_provider: MODEL_PROVIDER,
      usage: { ...usage },
      ...(model ? { model, model_name: model } : {}),
    },
  });
}
