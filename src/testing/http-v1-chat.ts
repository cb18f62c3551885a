import { randomBytes } from "node:crypto";
import type { ChatTurn } from "./chat-template.js";
import { streamPieces } from "./completion-payloads.js";
import type { GenerationResult } from "./generation.js";
import { requestTtlMs, resolveHttpInstance } from "./http-model-resolution.js";
import { isRecord, sendJson } from "./http-util.js";
import { restV1Error, restV1ErrorBody, restV1ParamError } from "./http-v1-errors.js";
import { IMAGE_NOT_BASE64, MODEL_NOT_VLM } from "./messages.js";
import type { RouteContext } from "./route-context.js";
import { startSse } from "./sse.js";
import type { LoadedInstance, SimulatorState } from "./state.js";
import { countSimulatorTokens, simulatorTokenPieces } from "./tokenizer.js";

/**
 * `POST /api/v1/chat` (docs 1_developer/2_rest/chat.md, streaming-events.md): LM Studio's native,
 * stateful chat. Answers come from the instance's engine like every other endpoint; reasoning is
 * always a separate `reasoning` output item. `integrations` (plugins, MCP) are not simulated.
 */

const REASONING_SETTINGS = new Set(["off", "low", "medium", "high", "on"]);
/** Nominal speed of scripted answers, as on /api/v0 (a real engine's are not measured here). */
const TOKENS_PER_SECOND = 50;
const TIME_TO_FIRST_TOKEN_SECONDS = 0.1;

interface NativeChatRequest {
  model: string;
  /** The new user turn. */
  input: ChatTurn;
  systemPrompt: string | undefined;
  stream: boolean;
  maxOutputTokens: number | undefined;
  contextLength: number | undefined;
  store: boolean;
  previousResponseId: string | undefined;
}

/** Stored conversations by response id, per simulator (`store`, `previous_response_id`). */
const conversations = new WeakMap<SimulatorState, Map<string, ChatTurn[]>>();

function storeOf(state: SimulatorState): Map<string, ChatTurn[]> {
  let store = conversations.get(state);
  if (store === undefined) {
    store = new Map();
    conversations.set(state, store);
  }
  return store;
}

function parseInput(value: unknown): ChatTurn {
  if (typeof value === "string") return { role: "user", text: value, images: 0 };
  if (!Array.isArray(value))
    throw restV1ParamError("input", value === undefined ? "missing" : "must be a string or an array");
  const texts: string[] = [];
  let images = 0;
  for (const item of value) {
    // The docs name the text item "message" in the schema and "text" in the example: accept both.
    if (
      isRecord(item) &&
      (item.type === "text" || item.type === "message") &&
      typeof item.content === "string"
    ) {
      texts.push(item.content);
    } else if (isRecord(item) && item.type === "image" && typeof item.data_url === "string") {
      if (!/^data:image\/(png|jpe?g|gif|bmp);base64,/.test(item.data_url))
        throw restV1Error("invalid_request", IMAGE_NOT_BASE64, { param: "input" });
      images += 1;
    } else {
      throw restV1Error("invalid_request", "Each input item must be a text or an image item", {
        param: "input",
      });
    }
  }
  return { role: "user", text: texts.join("\n"), images };
}

function optionalInt(body: Record<string, unknown>, name: string): number | undefined {
  const value = body[name];
  if (value === undefined) return undefined;
  if (typeof value === "number" && Number.isInteger(value) && value > 0) return value;
  throw restV1ParamError(name, "must be a positive integer");
}

function parseRequest(body: unknown): NativeChatRequest & { reasoning: string | undefined } {
  const b = isRecord(body) ? body : {};
  if (b.model === undefined) throw restV1ParamError("model", "missing");
  if (typeof b.model !== "string" || b.model === "")
    throw restV1ParamError("model", "must be a non-empty string");
  if (b.integrations !== undefined)
    throw restV1Error("not_implemented", "Integrations (plugins, MCP servers) are not simulated.", {
      param: "integrations",
    });
  const reasoning = b.reasoning;
  if (reasoning !== undefined && (typeof reasoning !== "string" || !REASONING_SETTINGS.has(reasoning)))
    throw restV1ParamError("reasoning", 'must be one of "off", "low", "medium", "high", "on"');
  const previous = b.previous_response_id;
  if (previous !== undefined && (typeof previous !== "string" || !previous.startsWith("resp_")))
    throw restV1ParamError("previous_response_id", 'must be a string starting with "resp_"');
  if (b.system_prompt !== undefined && typeof b.system_prompt !== "string")
    throw restV1ParamError("system_prompt", "must be a string");
  return {
    model: b.model,
    input: parseInput(b.input),
    systemPrompt: b.system_prompt as string | undefined,
    stream: b.stream === true,
    maxOutputTokens: optionalInt(b, "max_output_tokens"),
    contextLength: optionalInt(b, "context_length"),
    store: b.store !== false,
    previousResponseId: previous as string | undefined,
    reasoning: reasoning as string | undefined,
  };
}

/** The simulator's reasoning models always reason ("on" only); the others accept only "off". */
function checkReasoning(instance: LoadedInstance, setting: string | undefined): void {
  if (setting === undefined) return;
  const allowed = instance.model.reasoning ? ["on"] : ["off"];
  if (!allowed.includes(setting)) {
    throw restV1Error(
      "invalid_request",
      `Model "${instance.identifier}" does not support reasoning setting "${setting}". Allowed: ${allowed.join(", ")}.`,
      { param: "reasoning" },
    );
  }
}

interface ChatOutcome {
  output: Array<Record<string, unknown>>;
  stats: Record<string, number>;
  responseId: string | undefined;
}

function outcomeOf(
  result: Extract<GenerationResult, { kind: "text" | "tool_calls" }>,
  loadSeconds: number | undefined,
  responseId: string | undefined,
): ChatOutcome {
  const reasoning = result.kind === "text" ? result.reasoning : undefined;
  const reasoningTokens = reasoning !== undefined ? countSimulatorTokens(reasoning) : 0;
  const output: Array<Record<string, unknown>> = [];
  if (reasoning !== undefined) output.push({ type: "reasoning", content: reasoning });
  // Tools exist only through integrations, which are not simulated: answers are messages.
  output.push({ type: "message", content: result.kind === "text" ? result.content : "" });
  return {
    output,
    stats: {
      input_tokens: result.promptTokens,
      total_output_tokens: result.completionTokens,
      reasoning_output_tokens: reasoningTokens,
      tokens_per_second: TOKENS_PER_SECOND,
      time_to_first_token_seconds: TIME_TO_FIRST_TOKEN_SECONDS,
      ...(loadSeconds !== undefined ? { model_load_time_seconds: loadSeconds } : {}),
    },
    responseId,
  };
}

function resultBody(instance: LoadedInstance, outcome: ChatOutcome): Record<string, unknown> {
  return {
    model_instance_id: instance.identifier,
    output: outcome.output,
    stats: outcome.stats,
    ...(outcome.responseId !== undefined ? { response_id: outcome.responseId } : {}),
  };
}

/** Writes one named event; the data repeats the type, as LM Studio's events do. */
function event(ctx: RouteContext, type: string, data: Record<string, unknown> = {}): void {
  ctx.res.write(`event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`);
}

/** POST /api/v1/chat. */
export async function handleV1Chat(ctx: RouteContext): Promise<void> {
  const request = parseRequest(ctx.body);
  const store = storeOf(ctx.state);
  const history = request.previousResponseId !== undefined ? store.get(request.previousResponseId) : [];
  if (history === undefined) {
    throw restV1Error("invalid_request", `Response "${request.previousResponseId}" was not found.`, {
      param: "previous_response_id",
    });
  }
  const wasLoaded = ctx.state.findInstance(request.model) !== undefined;
  const loadStarted = performance.now();
  const instance = await resolveHttpInstance(
    ctx.state,
    request.model,
    "llm",
    requestTtlMs(ctx.body),
    request.contextLength,
  );
  const loadSeconds = wasLoaded ? undefined : (performance.now() - loadStarted) / 1000;
  if (request.input.images > 0 && !instance.model.vision)
    throw restV1Error("invalid_request", MODEL_NOT_VLM, { param: "input" });
  checkReasoning(instance, request.reasoning);

  const turns: ChatTurn[] = [
    ...(request.systemPrompt !== undefined && history.length === 0
      ? [{ role: "system" as const, text: request.systemPrompt, images: 0 }]
      : []),
    ...history,
    request.input,
  ];
  const result = await instance.engine.generate({
    model: instance.model,
    contextLength: instance.contextLength,
    dialect: ctx.state.dialectFor(instance.model),
    turns,
    separateReasoning: true,
    ...(request.maxOutputTokens !== undefined ? { maxTokens: request.maxOutputTokens } : {}),
  });
  if (result.kind === "overflow" || result.kind === "crash") {
    if (!request.stream) throw restV1Error("unknown", result.message);
    startChatStream(ctx, instance, loadSeconds);
    // The docs: an error event, then chat.end with whatever was generated (here nothing).
    event(ctx, "error", { ...restV1ErrorBody("unknown", result.message) });
    event(ctx, "chat.end", { result: { model_instance_id: instance.identifier, output: [], stats: {} } });
    ctx.res.end();
    return;
  }
  const responseId = request.store ? `resp_${randomBytes(24).toString("hex")}` : undefined;
  const outcome = outcomeOf(result, loadSeconds, responseId);
  if (responseId !== undefined) {
    const answer = result.kind === "text" ? result.content : "";
    store.set(responseId, [...turns, { role: "assistant", text: answer, images: 0 }]);
  }
  if (!request.stream) {
    sendJson(ctx.res, 200, resultBody(instance, outcome));
    return;
  }
  startChatStream(ctx, instance, loadSeconds);
  event(ctx, "prompt_processing.progress", { progress: 1 });
  event(ctx, "prompt_processing.end");
  for (const item of outcome.output) {
    const kind = item.type === "reasoning" ? "reasoning" : "message";
    event(ctx, `${kind}.start`);
    for (const piece of streamPieces(simulatorTokenPieces(String(item.content))))
      event(ctx, `${kind}.delta`, { content: piece });
    event(ctx, `${kind}.end`);
  }
  event(ctx, "chat.end", { result: resultBody(instance, outcome) });
  ctx.res.end();
}

/** The events every stream starts with: chat.start, the load events when this request loaded the model. */
function startChatStream(ctx: RouteContext, instance: LoadedInstance, loadSeconds: number | undefined): void {
  startSse(ctx.res);
  event(ctx, "chat.start", { model_instance_id: instance.identifier });
  if (loadSeconds !== undefined) {
    event(ctx, "model_load.start", { model_instance_id: instance.identifier });
    event(ctx, "model_load.progress", { model_instance_id: instance.identifier, progress: 1 });
    event(ctx, "model_load.end", { model_instance_id: instance.identifier, load_time_seconds: loadSeconds });
  }
  event(ctx, "prompt_processing.start");
}
