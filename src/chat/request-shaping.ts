import { toJsonSchema } from "@langchain/core/utils/json_schema";
import { isInteropZodSchema } from "@langchain/core/utils/types";
import type { ChatOpenAIResponseFormat, OpenAIClient } from "@langchain/openai";
import type { LMStudioSamplingOptions } from "./types.js";

/**
 * Turns the OpenAI-shaped request ChatOpenAICompletions builds into one LM Studio accepts
 * (reference: langchain-provider-conventions.md §5.2, lmstudio-api.md §1.3). Every rule here fixes
 * a request LM Studio rejects or misreads; nothing else is changed.
 */

type OpenAIParams = Omit<OpenAIClient.Chat.ChatCompletionCreateParams, "messages">;

/** The body LM Studio receives (minus messages): OpenAI's fields plus LM Studio's own extras. */
export type LMStudioCompletionParams = OpenAIParams & {
  top_k?: number;
  min_p?: number;
  repeat_penalty?: number;
  ttl?: number;
  draft_model?: string;
};

export interface ShapeOptions {
  /** The caller's response_format, before the openai client's helpers touch it. */
  responseFormat?: ChatOpenAIResponseFormat;
  streaming: boolean;
  /** Resolved per call: call option ?? instance setting. */
  streamUsage: boolean;
  /** An explicit `stream_options` from the caller wins over `streamUsage`. */
  explicitStreamOptions?: OpenAIClient.Chat.ChatCompletionStreamOptions;
  extras: LMStudioSamplingOptions;
}

/**
 * LM Studio accepts only "none" | "auto" | "required"; the object form is a 400
 * (`Invalid tool_choice type: 'object'`). A named choice becomes "required" with only that tool
 * offered, which forces the same call.
 */
function shapeToolChoice(params: LMStudioCompletionParams): void {
  const choice = params.tool_choice;
  if (choice === undefined || typeof choice === "string") return;
  const name = "function" in choice && choice.function?.name ? choice.function.name : undefined;
  params.tool_choice = "required";
  if (name === undefined) return;
  const tools = params.tools ?? [];
  const named = tools.filter((tool) => tool.type === "function" && tool.function.name === name);
  if (named.length === 0) {
    const offered = tools.flatMap((tool) => (tool.type === "function" ? [tool.function.name] : []));
    throw new Error(
      `tool_choice names "${name}", but no tool with that name is bound ` +
        `(bound: ${offered.length > 0 ? offered.join(", ") : "none"}).`,
    );
  }
  params.tools = named;
}

/** Accepts any JSON object: what "JSON mode" means, in the only response_format LM Studio takes. */
export const ANY_JSON_OBJECT_SCHEMA = { type: "object", additionalProperties: true } as const;

/**
 * LM Studio rejects `json_object` (`'response_format.type' must be 'json_schema' or 'text'`), so JSON
 * mode becomes a json_schema that allows any object. Zod schemas are converted here with
 * `toJsonSchema` rather than the openai SDK's helper, which demands strict-mode schemas (every
 * optional field nullable) that LM Studio's grammar does not need.
 */
export function toLMStudioResponseFormat(
  format: ChatOpenAIResponseFormat | undefined,
): OpenAIParams["response_format"] {
  if (format === undefined) return undefined;
  if (format.type === "json_object") {
    return {
      type: "json_schema",
      json_schema: { name: "json_response", schema: { ...ANY_JSON_OBJECT_SCHEMA } },
    };
  }
  if (format.type === "json_schema") {
    const { schema, strict, ...rest } = format.json_schema;
    const plainSchema = isInteropZodSchema(schema) ? toJsonSchema(schema) : schema;
    return {
      type: "json_schema",
      json_schema: {
        ...rest,
        schema: plainSchema as Record<string, unknown>,
        // Only sent when the caller chose it: LM Studio enforces the schema either way.
        ...(typeof strict === "boolean" ? { strict } : {}),
      },
    };
  }
  return format as OpenAIParams["response_format"];
}

export function shapeLMStudioRequest(base: OpenAIParams, options: ShapeOptions): LMStudioCompletionParams {
  const params: LMStudioCompletionParams = { ...base };

  shapeToolChoice(params);

  const responseFormat = toLMStudioResponseFormat(options.responseFormat);
  if (responseFormat === undefined) delete params.response_format;
  else params.response_format = responseFormat;

  // ChatOpenAI switches to max_completion_tokens for names that look like OpenAI reasoning models;
  // LM Studio only reads max_tokens.
  if (params.max_completion_tokens != null) {
    params.max_tokens ??= params.max_completion_tokens;
    delete params.max_completion_tokens;
  }

  delete params.stream_options;
  if (options.explicitStreamOptions !== undefined) {
    if (options.streaming) params.stream_options = options.explicitStreamOptions;
  } else if (options.streaming && options.streamUsage) {
    params.stream_options = { include_usage: true };
  }

  const { topK, minP, repeatPenalty, ttl, draftModel } = options.extras;
  if (topK !== undefined) params.top_k = topK;
  if (minP !== undefined) params.min_p = minP;
  if (repeatPenalty !== undefined) params.repeat_penalty = repeatPenalty;
  if (ttl !== undefined) params.ttl = ttl;
  if (draftModel !== undefined) params.draft_model = draftModel;

  return params;
}

/**
 * Message-level fixes: ChatOpenAI renames "system" to "developer" for names that look like OpenAI
 * reasoning models, a role local chat templates do not know.
 */
export function toLMStudioMessages(
  messages: OpenAIClient.Chat.ChatCompletionMessageParam[],
): OpenAIClient.Chat.ChatCompletionMessageParam[] {
  return messages.map((message) =>
    message.role === "developer" ? { ...message, role: "system" as const } : message,
  );
}
