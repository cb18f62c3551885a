/** A chat message in the simulator's neutral form (OpenAI and SDK histories both map onto it). */
export interface ChatTurn {
  role: "system" | "user" | "assistant" | "tool";
  /** Text parts joined with newlines. */
  text: string;
  /** Number of image parts. */
  images: number;
  /** Tool calls made by an assistant turn. */
  toolCalls?: Array<{ name: string; arguments: string }>;
}

/** A function tool as offered in a request. */
export interface ToolDefinition {
  name: string;
  description?: string;
  parameters?: unknown;
}

/** Rendered in place of each image: 256 one-character tokens, so an image counts as 256 tokens. */
export const IMAGE_PLACEHOLDER = "#".repeat(256);

function renderTools(tools: readonly ToolDefinition[]): string {
  const lines = tools.map((t) =>
    JSON.stringify({
      type: "function",
      function: { name: t.name, description: t.description, parameters: t.parameters },
    }),
  );
  return `# Tools\n\nYou may call one or more functions. Function signatures:\n<tools>\n${lines.join("\n")}\n</tools>`;
}

function renderTurnBody(turn: ChatTurn): string {
  const parts: string[] = [];
  for (let i = 0; i < turn.images; i++) parts.push(IMAGE_PLACEHOLDER);
  if (turn.text.length > 0) parts.push(turn.text);
  for (const call of turn.toolCalls ?? []) {
    parts.push(
      `<tool_call>\n{"name":${JSON.stringify(call.name)},"arguments":${call.arguments}}\n</tool_call>`,
    );
  }
  return parts.join("\n");
}

/**
 * ChatML-style template: `<|im_start|>{role}\n{text}<|im_end|>\n` per message, then the assistant
 * header. Offered tools become a leading system block so they count toward the prompt.
 */
export function applySimulatorChatTemplate(
  messages: readonly ChatTurn[],
  tools: readonly ToolDefinition[] = [],
): string {
  let out = "";
  if (tools.length > 0) out += `<|im_start|>system\n${renderTools(tools)}<|im_end|>\n`;
  for (const turn of messages) out += `<|im_start|>${turn.role}\n${renderTurnBody(turn)}<|im_end|>\n`;
  return `${out}<|im_start|>assistant\n`;
}
