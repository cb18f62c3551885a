import type { CatalogModel } from "./catalog.js";
import { applySimulatorChatTemplate, type ChatTurn, type ToolDefinition } from "./chat-template.js";
import { fnv1a } from "./hash.js";
import { bestMatch, fillJsonSchema } from "./json-schema-fill.js";
import { MODEL_CRASHED, overflowMessage } from "./messages.js";
import { answerRecall } from "./recall.js";
import { countSimulatorTokens, truncateToTokens } from "./tokenizer.js";
import type { LMStudioVersionDialect } from "./types.js";

export interface GenerationRequest {
  model: CatalogModel;
  /** The loaded instance's context. */
  contextLength: number;
  dialect: LMStudioVersionDialect;
  turns: readonly ChatTurn[];
  tools?: readonly ToolDefinition[];
  toolChoice?: "auto" | "none" | "required";
  /** A JSON schema the answer must satisfy. */
  jsonSchema?: unknown;
  maxTokens?: number;
  /** /v1/completions: the prompt is used as is, without the chat template. */
  rawPrompt?: string;
  /** Put reasoning in a separate field instead of inline <think> tags. */
  separateReasoning?: boolean;
}

export interface GeneratedToolCall {
  /** Numeric string, as LM Studio emits. */
  id: string;
  name: string;
  /** JSON text. */
  arguments: string;
}

export type GenerationResult =
  | { kind: "overflow"; promptTokens: number; contextLength: number; message: string }
  | { kind: "crash"; promptTokens: number; message: string }
  | { kind: "tool_calls"; promptTokens: number; completionTokens: number; calls: GeneratedToolCall[] }
  | {
      kind: "text";
      promptTokens: number;
      completionTokens: number;
      content: string;
      reasoning?: string;
      finishReason: "stop" | "length";
      /**
       * The content as the decoder produced it, one entry per streamed piece with its token count
       * (a real engine's tokens); absent for scripted answers, which stream by simulator tokens.
       */
      pieces?: StreamPiece[];
    };

export interface StreamPiece {
  text: string;
  tokens: number;
}

/** The exact prompt text the model sees (chat template, or the raw prompt for completions). */
export function renderPrompt(req: Pick<GenerationRequest, "turns" | "tools" | "rawPrompt">): string {
  return req.rawPrompt ?? applySimulatorChatTemplate(req.turns, req.tools ?? []);
}

function lastUserText(req: GenerationRequest): string {
  if (req.rawPrompt !== undefined) return req.rawPrompt;
  for (let i = req.turns.length - 1; i >= 0; i--)
    if (req.turns[i]!.role === "user") return req.turns[i]!.text;
  return "";
}

function chooseTool(tools: readonly ToolDefinition[], userText: string): ToolDefinition {
  const lower = userText.toLowerCase();
  const named = tools.find((t) => lower.includes(t.name.toLowerCase()));
  if (named) return named;
  const described = bestMatch(
    tools.map((t) => `${t.name.replace(/[_-]/g, " ")} ${t.description ?? ""}`),
    userText,
  );
  return (
    tools.find((t) => `${t.name.replace(/[_-]/g, " ")} ${t.description ?? ""}` === described) ?? tools[0]!
  );
}

/** The tools the user names, in the order named: naming several asks for parallel calls. */
function namedTools(tools: readonly ToolDefinition[], userText: string): ToolDefinition[] {
  const lower = userText.toLowerCase();
  return tools
    .map((tool) => ({ tool, at: lower.indexOf(tool.name.toLowerCase()) }))
    .filter(({ at }) => at >= 0)
    .sort((left, right) => left.at - right.at)
    .map(({ tool }) => tool);
}

function answerText(req: GenerationRequest, prompt: string, promptTokens: number): string {
  const userText = lastUserText(req);
  const lastTurn = req.turns[req.turns.length - 1];
  if (req.rawPrompt === undefined && lastTurn?.role === "tool") return `The tool returned: ${lastTurn.text}`;
  if (req.jsonSchema !== undefined) return JSON.stringify(fillJsonSchema(req.jsonSchema, userText));
  const recall = answerRecall(prompt, userText, promptTokens <= req.model.effectiveContext);
  if (recall !== undefined) return recall;
  return `You said: ${userText}`;
}

/** Deterministic generation, in the order DESIGN.md lists: same request → same answer. */
export function generate(req: GenerationRequest): GenerationResult {
  const prompt = renderPrompt(req);
  const promptTokens = countSimulatorTokens(prompt);
  if (promptTokens > req.contextLength) {
    const message = overflowMessage(req.dialect, promptTokens, req.contextLength);
    return { kind: "overflow", promptTokens, contextLength: req.contextLength, message };
  }
  if (promptTokens > req.model.fillLimit) return { kind: "crash", promptTokens, message: MODEL_CRASHED };

  const tools = req.tools ?? [];
  const lastTurn = req.turns[req.turns.length - 1];
  if (
    tools.length > 0 &&
    req.toolChoice !== "none" &&
    req.rawPrompt === undefined &&
    lastTurn?.role === "user"
  ) {
    const named = namedTools(tools, lastTurn.text);
    const chosen = named.length > 1 ? named : [chooseTool(tools, lastTurn.text)];
    const calls = chosen.map((tool) => ({
      id: String(100_000_000 + (fnv1a(`${prompt}\u0000${tool.name}`) % 900_000_000)),
      name: tool.name,
      arguments: JSON.stringify(fillJsonSchema(tool.parameters ?? { type: "object" }, lastTurn.text)),
    }));
    const completionTokens = calls.reduce(
      (sum, call) => sum + countSimulatorTokens(call.arguments) + countSimulatorTokens(call.name) + 4,
      0,
    );
    return { kind: "tool_calls", promptTokens, completionTokens, calls };
  }

  const answer = answerText(req, prompt, promptTokens);
  const reasoning = req.model.reasoning
    ? `The user wrote ${countSimulatorTokens(lastUserText(req))} tokens. I will answer directly.`
    : undefined;
  const full =
    reasoning !== undefined && !req.separateReasoning
      ? `<think>\n${reasoning}\n</think>\n\n${answer}`
      : answer;
  const cut =
    req.maxTokens !== undefined && req.maxTokens >= 0 ? truncateToTokens(full, req.maxTokens) : undefined;
  const content = cut?.text ?? full;
  const separate = reasoning !== undefined && req.separateReasoning === true ? reasoning : undefined;
  return {
    kind: "text",
    promptTokens,
    completionTokens: countSimulatorTokens(content) + (separate ? countSimulatorTokens(separate) : 0),
    content,
    ...(separate !== undefined ? { reasoning: separate } : {}),
    finishReason: cut?.truncated ? "length" : "stop",
  };
}
