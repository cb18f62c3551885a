import { type BaseMessage, trimMessages } from "@langchain/core/messages";
import { LMStudioContextOverflowError } from "../lmstudio/errors.js";
import type { ChatTurn } from "./host.js";
import type { OverflowPolicy } from "./types.js";

/**
 * Fitting one chat request into a model's tested context: plain functions over messages and an exact
 * token counter supplied by the guard (the model's own template + tokenizer, cached).
 */

export type MessageCounter = (messages: BaseMessage[]) => Promise<number>;

export interface FitLimits {
  model: string;
  /** The context of the instance the request will go to (never above the tested max). */
  contextLength: number;
  /** Longest prompt verified to work (tested) or allowed (declared): never admit a longer one. */
  promptLimit: number;
  /** Fewest answer tokens worth sending a request for. */
  minOutputTokens: number;
}

export interface FitResult {
  messages: BaseMessage[];
  promptTokens: number;
  maxTokens: number;
}

/** Images cannot be templated without uploading them; this is what one costs in the count. */
export const IMAGE_TOKEN_ESTIMATE = 256;

function partText(part: unknown): string {
  if (typeof part === "string") return part;
  if (part && typeof part === "object") {
    const record = part as Record<string, unknown>;
    if (typeof record.text === "string") return record.text;
    if (record.type === "image_url" || record.type === "image") return "";
  }
  return "";
}

function imageCount(content: BaseMessage["content"]): number {
  if (typeof content === "string") return 0;
  return content.filter((part) => part.type === "image_url" || part.type === "image").length;
}

function roleOf(message: BaseMessage): ChatTurn["role"] {
  const type = message.getType();
  if (type === "system" || type === "developer") return "system";
  if (type === "ai") return "assistant";
  return "user";
}

/** Messages (and tool definitions, which the server renders into the prompt) as plain chat turns. */
export function messagesToTurns(messages: readonly BaseMessage[], tools?: readonly unknown[]): ChatTurn[] {
  const turns: ChatTurn[] = [];
  if (tools && tools.length > 0) turns.push({ role: "system", content: `Tools:\n${JSON.stringify(tools)}` });
  for (const message of messages) {
    const text =
      typeof message.content === "string" ? message.content : message.content.map(partText).join("");
    const calls =
      "tool_calls" in message && Array.isArray(message.tool_calls) && message.tool_calls.length > 0
        ? `\n${JSON.stringify(message.tool_calls)}`
        : "";
    turns.push({ role: roleOf(message), content: `${text}${calls}` });
  }
  return turns;
}

export function imageTokens(messages: readonly BaseMessage[]): number {
  return messages.reduce((sum, m) => sum + imageCount(m.content) * IMAGE_TOKEN_ESTIMATE, 0);
}

function overflowError(limits: FitLimits, promptTokens: number, what: string): LMStudioContextOverflowError {
  return new LMStudioContextOverflowError(
    `${what}: the prompt has ${promptTokens} tokens, but "${limits.model}" can take at most ${limits.promptLimit} ` +
      `(context ${limits.contextLength}, ${limits.minOutputTokens} kept for the answer). Shorten the input, or use ` +
      `overflow: "trim" / "truncate-middle".`,
    { promptTokens, contextLength: limits.contextLength, dialect: "context-guard" },
  );
}

function room(limits: FitLimits): number {
  return Math.min(limits.promptLimit, limits.contextLength - limits.minOutputTokens);
}

function finish(
  limits: FitLimits,
  messages: BaseMessage[],
  promptTokens: number,
  requested?: number,
): FitResult {
  const available = limits.contextLength - promptTokens;
  return { messages, promptTokens, maxTokens: Math.max(1, Math.min(requested ?? available, available)) };
}

/** Cuts the middle out of the longest message until the whole prompt fits. */
async function truncateMiddle(
  messages: BaseMessage[],
  count: MessageCounter,
  budget: number,
  promptTokens: number,
): Promise<{ messages: BaseMessage[]; promptTokens: number } | undefined> {
  let current = messages;
  let tokens = promptTokens;
  for (let attempt = 0; attempt < 6 && tokens > budget; attempt += 1) {
    let longest = -1;
    let longestLength = 0;
    current.forEach((m, i) => {
      if (typeof m.content === "string" && m.content.length > longestLength && roleOfType(m) !== "system") {
        longest = i;
        longestLength = m.content.length;
      }
    });
    const target = current[longest];
    if (!target || typeof target.content !== "string") return undefined;
    const text = target.content;
    const charsPerToken = text.length / Math.max(1, tokens);
    // Overshoot a little so the loop usually ends in one step; the marker costs a few tokens too. The
    // overshoot is a share of the budget, not of the excess: on an input 20× too long, 10 % of the
    // excess would be twice the budget and nothing would be left.
    const cut = Math.min(text.length - 2, Math.ceil((tokens - budget * 0.98) * charsPerToken) + 16);
    if (cut <= 0) return undefined;
    const keep = text.length - cut;
    const head = text.slice(0, Math.ceil(keep / 2));
    const tail = text.slice(text.length - Math.floor(keep / 2));
    const replaced = cloneWithContent(target, `${head}\n[…]\n${tail}`);
    current = current.map((m, i) => (i === longest ? replaced : m));
    tokens = await count(current);
  }
  return tokens <= budget ? { messages: current, promptTokens: tokens } : undefined;
}

function roleOfType(message: BaseMessage): string {
  return message.getType();
}

function cloneWithContent(message: BaseMessage, content: string): BaseMessage {
  // Same class and fields (ids, tool call ids, names), new text.
  const Ctor = message.constructor as new (fields: Record<string, unknown>) => BaseMessage;
  return new Ctor({ ...message.lc_kwargs, content });
}

/**
 * Fits `messages` into `limits`: caps max_tokens to what is left, and applies the overflow policy when
 * the prompt itself is too long. Throws LMStudioContextOverflowError (dialect "context-guard") before
 * any request when the policy is "error" or nothing can make it fit.
 */
export async function fitChat(
  messages: BaseMessage[],
  promptTokens: number,
  count: MessageCounter,
  limits: FitLimits,
  policy: OverflowPolicy,
  requestedMaxTokens?: number,
): Promise<FitResult> {
  const budget = room(limits);
  if (promptTokens <= budget) return finish(limits, messages, promptTokens, requestedMaxTokens);
  if (policy === "error") throw overflowError(limits, promptTokens, "Context overflow prevented");

  if (policy === "trim") {
    const trimmed = await trimMessages(messages, {
      maxTokens: budget,
      tokenCounter: count,
      strategy: "last",
      includeSystem: true,
      startOn: "human",
    });
    if (trimmed.length > 0 && trimmed.some((m) => m.getType() !== "system")) {
      const tokens = await count(trimmed);
      if (tokens <= budget) return finish(limits, trimmed, tokens, requestedMaxTokens);
    }
    // Even the newest turn alone is too long: cut its middle rather than send nothing.
    const lastHuman = [...messages].reverse().find((m) => m.getType() === "human");
    const systems = messages.filter((m) => m.getType() === "system");
    if (lastHuman) {
      const minimal = [...systems, lastHuman];
      const cut = await truncateMiddle(minimal, count, budget, await count(minimal));
      if (cut) return finish(limits, cut.messages, cut.promptTokens, requestedMaxTokens);
    }
    throw overflowError(limits, promptTokens, "Trimming could not make the prompt fit");
  }

  const cut = await truncateMiddle(messages, count, budget, promptTokens);
  if (cut) return finish(limits, cut.messages, cut.promptTokens, requestedMaxTokens);
  throw overflowError(limits, promptTokens, "Truncating the middle could not make the prompt fit");
}
