import type { ChatTurn, ToolDefinition } from "./chat-template.js";
import {
  isRecord,
  optionalBoolean,
  optionalNonNegativeInt,
  optionalString,
  requireObjectBody,
  validationError,
} from "./http-util.js";
import { IMAGE_NOT_BASE64, JSON_OBJECT_REJECTED, OBJECT_TOOL_CHOICE_REJECTED } from "./messages.js";

/** A validated /v1/chat/completions request. */
export interface ChatCompletionRequest {
  model: string | undefined;
  turns: ChatTurn[];
  tools: ToolDefinition[];
  toolChoice: "auto" | "none" | "required";
  jsonSchema: unknown;
  maxTokens: number | undefined;
  stream: boolean;
  includeUsage: boolean;
}

// Formats LM Studio decodes; webp is reported failing with the same error (reference §1.3).
const DATA_URL = /^data:image\/(png|jpe?g|gif|bmp);base64,[A-Za-z0-9+/=\s]*$/;

function parseContent(content: unknown, role: string): { text: string; images: number } {
  if (content === undefined || content === null) return { text: "", images: 0 };
  if (typeof content === "string") return { text: content, images: 0 };
  if (!Array.isArray(content))
    throw validationError(`'content' field of a ${role} message must be a string or an array`);
  const texts: string[] = [];
  let images = 0;
  for (const part of content) {
    if (!isRecord(part)) throw validationError("Each content part must be an object");
    if (part.type === "text") {
      if (typeof part.text !== "string")
        throw validationError("'text' field of a text part must be a string");
      texts.push(part.text);
    } else if (part.type === "image_url") {
      const imageUrl = part.image_url;
      const url = typeof imageUrl === "string" ? imageUrl : isRecord(imageUrl) ? imageUrl.url : undefined;
      if (typeof url !== "string" || !DATA_URL.test(url)) throw validationError(IMAGE_NOT_BASE64);
      images += 1;
    } else {
      throw validationError(`Unsupported content part type: '${String(part.type)}'`);
    }
  }
  return { text: texts.join("\n"), images };
}

function parseToolCalls(value: unknown): ChatTurn["toolCalls"] {
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value)) throw validationError("'tool_calls' field must be an array");
  return value.map((call) => {
    const fn = isRecord(call) ? call.function : undefined;
    if (!isRecord(fn) || typeof fn.name !== "string")
      throw validationError("Each tool call must have a function name");
    return { name: fn.name, arguments: typeof fn.arguments === "string" ? fn.arguments : "{}" };
  });
}

export function parseMessages(value: unknown): ChatTurn[] {
  if (!Array.isArray(value)) throw validationError("'messages' field must be an array");
  return value.map((message) => {
    if (!isRecord(message)) throw validationError("Each message must be an object");
    const role = message.role === "developer" ? "system" : message.role;
    if (role !== "system" && role !== "user" && role !== "assistant" && role !== "tool") {
      throw validationError(`Invalid message role: '${String(message.role)}'`);
    }
    const { text, images } = parseContent(message.content, role);
    const toolCalls = role === "assistant" ? parseToolCalls(message.tool_calls) : undefined;
    return { role, text, images, ...(toolCalls ? { toolCalls } : {}) };
  });
}

function parseTools(value: unknown): ToolDefinition[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw validationError("'tools' field must be an array");
  return value.map((tool) => {
    const fn = isRecord(tool) ? tool.function : undefined;
    if (!isRecord(tool) || tool.type !== "function" || !isRecord(fn) || typeof fn.name !== "string") {
      throw validationError("Each tool must be of type 'function' with a 'function.name'");
    }
    return {
      name: fn.name,
      ...(typeof fn.description === "string" ? { description: fn.description } : {}),
      ...(fn.parameters !== undefined ? { parameters: fn.parameters } : {}),
    };
  });
}

function parseToolChoice(value: unknown): ChatCompletionRequest["toolChoice"] {
  if (value === undefined || value === null) return "auto";
  if (typeof value === "object") throw validationError(OBJECT_TOOL_CHOICE_REJECTED);
  if (value === "auto" || value === "none" || value === "required") return value;
  throw validationError(
    `Invalid tool_choice value: '${String(value)}'. Supported string values: none, auto, required`,
  );
}

function parseResponseFormat(value: unknown): unknown {
  if (value === undefined || value === null) return undefined;
  if (!isRecord(value)) throw validationError(JSON_OBJECT_REJECTED);
  if (value.type === "text") return undefined;
  if (value.type !== "json_schema") throw validationError(JSON_OBJECT_REJECTED);
  const jsonSchema = value.json_schema;
  if (!isRecord(jsonSchema) || !isRecord(jsonSchema.schema)) {
    throw validationError("'response_format.json_schema.schema' must be an object");
  }
  return jsonSchema.schema;
}

export function parseChatCompletionRequest(bodyIn: unknown): ChatCompletionRequest {
  const body = requireObjectBody(bodyIn);
  const model = optionalString(body, "model");
  const turns = parseMessages(body.messages);
  const streamOptions = body.stream_options;
  return {
    model,
    turns,
    tools: parseTools(body.tools),
    toolChoice: parseToolChoice(body.tool_choice),
    jsonSchema: parseResponseFormat(body.response_format),
    maxTokens:
      optionalNonNegativeInt(body, "max_tokens") ?? optionalNonNegativeInt(body, "max_completion_tokens"),
    stream: optionalBoolean(body, "stream") ?? false,
    includeUsage: isRecord(streamOptions) && streamOptions.include_usage === true,
  };
}
