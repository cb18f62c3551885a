import type { ChatTurn, ToolDefinition } from "./chat-template.js";
import { isRecord } from "./http-util.js";

/** Converts the SDK's chat history (`{messages:[{role, content:[parts]}]}`) to chat turns. */
export function sdkHistoryToTurns(history: unknown): ChatTurn[] {
  const messages = isRecord(history) && Array.isArray(history.messages) ? history.messages : [];
  const turns: ChatTurn[] = [];
  for (const message of messages) {
    if (!isRecord(message)) continue;
    const role = message.role;
    if (role !== "system" && role !== "user" && role !== "assistant" && role !== "tool") continue;
    const texts: string[] = [];
    let images = 0;
    const toolCalls: NonNullable<ChatTurn["toolCalls"]> = [];
    for (const part of Array.isArray(message.content) ? message.content : []) {
      if (!isRecord(part)) continue;
      if (part.type === "text" && typeof part.text === "string") texts.push(part.text);
      else if (part.type === "file") {
        if (part.fileType === "image") images += 1;
        else texts.push(`[file ${String(part.name)}]`);
      } else if (part.type === "toolCallRequest" && isRecord(part.toolCallRequest)) {
        const request = part.toolCallRequest;
        toolCalls.push({ name: String(request.name), arguments: JSON.stringify(request.arguments ?? {}) });
      } else if (part.type === "toolCallResult" && typeof part.content === "string") texts.push(part.content);
    }
    turns.push({ role, text: texts.join("\n"), images, ...(toolCalls.length > 0 ? { toolCalls } : {}) });
  }
  return turns;
}

/** Tools in the SDK's `llmToolSchema` form (`{type:"function", function:{name, description, parameters}}`). */
export function sdkToolsToDefinitions(value: unknown): ToolDefinition[] {
  const tools =
    isRecord(value) && value.type === "toolArray" && Array.isArray(value.tools) ? value.tools : [];
  const out: ToolDefinition[] = [];
  for (const tool of tools) {
    const fn = isRecord(tool) ? tool.function : undefined;
    if (!isRecord(fn) || typeof fn.name !== "string") continue;
    out.push({
      name: fn.name,
      ...(typeof fn.description === "string" ? { description: fn.description } : {}),
      ...(fn.parameters !== undefined ? { parameters: fn.parameters } : {}),
    });
  }
  return out;
}
