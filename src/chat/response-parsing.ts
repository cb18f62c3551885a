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

/**
 * Rebuilds a converted non-streaming message with reasoning moved out of the text and LM Studio's
 * metadata. `converted` comes from @langchain/openai's converter (tool calls already parsed).
 */
export function toLMStudioAIMessage(
  converted: BaseMessage,
  raw: OpenAIClient.Chat.Completions.ChatCompletion,
): BaseMessage {
  if (!AIMessage.isInstance(converted)) return converted;
  const rawMessage = (raw.choices?.[0]?.message ?? {}) as ReasoningFields;
  const reasoningParts: string[] = [];
  const separate = separateReasoningOf(rawMessage);
  if (separate) reasoningParts.push(separate);

  let content = converted.content;
  if (typeof content === "string" && content.includes("think>")) {
    const split = splitThinkTags(content);
    if (split.reasoning) reasoningParts.push(split.reasoning);
    content = split.content;
  }

  const additional_kwargs = { ...converted.additional_kwargs };
  if (reasoningParts.length > 0) additional_kwargs.reasoning_content = reasoningParts.join("\n");

  return new AIMessage({
    content,
    id: converted.id,
    tool_calls: converted.tool_calls,
    invalid_tool_calls: converted.invalid_tool_calls,
    additional_kwargs,
    usage_metadata: usageMetadataOf(raw.usage),
    response_metadata: {
      ...converted.response_metadata,
      model_provider: MODEL_PROVIDER,
      model: raw.model,
      model_name: raw.model,
      ...(raw.choices?.[0]?.finish_reason ? { finish_reason: raw.choices[0].finish_reason } : {}),
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
