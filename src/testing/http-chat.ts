import {
  completionId,
  contentFragments,
  restV0Extras,
  streamPieces,
  usageOf,
} from "./completion-payloads.js";
import type { GenerationResult } from "./generation.js";
import { resolveHttpInstance } from "./http-model-resolution.js";
import { HttpError, sendJson, validationError } from "./http-util.js";
import { MODEL_NOT_VLM } from "./messages.js";
import { type ChatCompletionRequest, parseChatCompletionRequest } from "./openai-request.js";
import { type RouteContext, SseWriter } from "./route-context.js";
import { startSse, writeSseEvent } from "./sse.js";
import type { LoadedInstance } from "./state.js";
import { simulatorTokenPieces } from "./tokenizer.js";

/** POST /v1/chat/completions and /api/v0/chat/completions. */
export async function handleChatCompletions(ctx: RouteContext, flavor: "v1" | "v0"): Promise<void> {
  const request = parseChatCompletionRequest(ctx.body);
  const instance = await resolveHttpInstance(ctx.state, request.model, "llm");
  if (request.turns.some((t) => t.images > 0) && !instance.model.vision) throw validationError(MODEL_NOT_VLM);
  const result = await instance.engine.generate({
    model: instance.model,
    contextLength: instance.contextLength,
    dialect: ctx.state.dialectFor(instance.model),
    turns: request.turns,
    tools: request.tools,
    toolChoice: request.toolChoice,
    jsonSchema: request.jsonSchema,
    ...(request.maxTokens !== undefined ? { maxTokens: request.maxTokens } : {}),
    separateReasoning: ctx.state.options.separateReasoningContent,
  });
  if (result.kind === "overflow" || result.kind === "crash") {
    // 0.4.21 reports overflow inside an HTTP 200 stream as an `event: error` frame.
    if (result.kind === "overflow" && request.stream && ctx.state.dialectFor(instance.model) === "0.4.21") {
      startSse(ctx.res);
      writeSseEvent(ctx.res, "error", { error: { message: result.message }, message: result.message });
      ctx.res.end();
      return;
    }
    throw new HttpError(400, { error: result.message });
  }
  if (request.stream) await streamChat(ctx, instance, request, result, flavor);
  else sendJson(ctx.res, 200, chatBody(instance, result, flavor));
}

function chatBody(
  instance: LoadedInstance,
  result: GenerationResult,
  flavor: "v1" | "v0",
): Record<string, unknown> {
  const message: Record<string, unknown> = { role: "assistant" };
  let finishReason = "stop";
  if (result.kind === "tool_calls") {
    finishReason = "tool_calls";
    message.tool_calls = result.calls.map((c) => ({
      id: c.id,
      type: "function",
      function: { name: c.name, arguments: c.arguments },
    }));
  } else if (result.kind === "text") {
    finishReason = result.finishReason;
    message.content = result.content;
    if (result.reasoning !== undefined) message.reasoning_content = result.reasoning;
  }
  return {
    id: completionId("chatcmpl"),
    object: "chat.completion",
    created: Math.floor(Date.now() / 1000),
    model: instance.identifier,
    choices: [{ index: 0, logprobs: null, finish_reason: finishReason, message }],
    usage: usageOf(result),
    ...(flavor === "v0" ? restV0Extras(instance, result) : { stats: {} }),
    system_fingerprint: instance.identifier,
  };
}

async function streamChat(
  ctx: RouteContext,
  instance: LoadedInstance,
  request: ChatCompletionRequest,
  result: GenerationResult,
  flavor: "v1" | "v0",
): Promise<void> {
  const writer = new SseWriter(ctx);
  const id = completionId("chatcmpl");
  const created = Math.floor(Date.now() / 1000);
  const chunk = (delta: Record<string, unknown>, finishReason: string | null) => ({
    id,
    object: "chat.completion.chunk",
    created,
    model: instance.identifier,
    system_fingerprint: instance.identifier,
    choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }],
  });

  let finishReason = "stop";
  if (result.kind === "tool_calls") {
    finishReason = "tool_calls";
    let first = true;
    for (const [index, call] of result.calls.entries()) {
      // Only the first delta of a call carries id/type/name; later ones carry argument fragments.
      const head = { index, id: call.id, type: "function", function: { name: call.name, arguments: "" } };
      if (
        !(await writer.data(
          chunk(first ? { role: "assistant", tool_calls: [head] } : { tool_calls: [head] }, null),
        ))
      )
        return;
      first = false;
      for (const fragment of streamPieces(simulatorTokenPieces(call.arguments))) {
        const delta = { index, id: null, type: null, function: { name: null, arguments: fragment } };
        if (!(await writer.data(chunk({ tool_calls: [delta] }, null)))) return;
      }
    }
  } else if (result.kind === "text") {
    finishReason = result.finishReason;
    let first = true;
    if (result.reasoning !== undefined) {
      for (const fragment of streamPieces(simulatorTokenPieces(result.reasoning))) {
        const delta = first
          ? { role: "assistant", reasoning_content: fragment }
          : { reasoning_content: fragment };
        if (!(await writer.data(chunk(delta, null)))) return;
        first = false;
      }
    }
    for (const { text: fragment } of contentFragments(result)) {
      if (
        !(await writer.data(
          chunk(first ? { role: "assistant", content: fragment } : { content: fragment }, null),
        ))
      )
        return;
      first = false;
    }
    if (first && !(await writer.data(chunk({ role: "assistant", content: "" }, null)))) return;
  }
  if (!(await writer.data(chunk({}, finishReason)))) return;
  // v0 streaming omits usage and stats (reference §2.1).
  if (request.includeUsage && flavor === "v1") {
    const usageChunk = { ...chunk({}, null), choices: [], usage: usageOf(result) };
    if (!(await writer.data(usageChunk))) return;
  }
  await writer.done();
}
