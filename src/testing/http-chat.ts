import {
  completionId,
  contentFragments,
  restV0Extras,
  streamPieces,
  usageOf,
} from "./completion-payloads.js";
import type { GenerationResult } from "./generation.js";
import { requestTtlMs, resolveHttpInstance } from "./http-model-resolution.js";
import { HttpError, sendJson, validationError } from "./http-util.js";
import { MODEL_NOT_VLM } from "./messages.js";
import { type ChatCompletionRequest, parseChatCompletionRequest } from "./openai-request.js";
import { generateInSlot, kvExhaustedFrame, kvExhaustedHttpError } from "./pooled-generation.js";
import { type RouteContext, SseWriter } from "./route-context.js";
import { startSse, writeSseEvent } from "./sse.js";
import type { LoadedInstance } from "./state.js";
import { simulatorTokenPieces } from "./tokenizer.js";

/** POST /v1/chat/completions and /api/v0/chat/completions. */
export async function handleChatCompletions(ctx: RouteContext, flavor: "v1" | "v0"): Promise<void> {
  const request = parseChatCompletionRequest(ctx.body);
  const instance = await resolveHttpInstance(ctx.state, request.model, "llm", requestTtlMs(ctx.body));
  if (request.turns.some((t) => t.images > 0) && !instance.model.vision) throw validationError(MODEL_NOT_VLM);
  const stream = request.stream ? new ChatStream(ctx, instance, request, flavor) : undefined;
  const result = await generateInSlot(
    instance,
    {
      model: instance.model,
      contextLength: instance.contextLength,
      dialect: ctx.state.dialectFor(instance.model),
      turns: request.turns,
      tools: request.tools,
      toolChoice: request.toolChoice,
      jsonSchema: request.jsonSchema,
      ...(request.maxTokens !== undefined ? { maxTokens: request.maxTokens } : {}),
      // gpt-oss-style models always separate their reasoning (`reasoning`, 0.3.23+); the others only
      // with the Developer setting (`reasoning_content`).
      separateReasoning:
        ctx.state.options.separateReasoningContent || instance.model.reasoningField === "reasoning",
    },
    ctx.state.options.timing,
    stream ? { onPiece: (piece) => stream.content(piece.text) } : {},
  );
  if (result.kind === "exhausted") {
    // After the first token the failure can only be a frame inside the stream (and no [DONE]).
    if (stream?.opened) return stream.fail(kvExhaustedFrame(result.message));
    throw kvExhaustedHttpError(result.message);
  }
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
  if (stream) await stream.finish(result);
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
    if (result.reasoning !== undefined) message[instance.model.reasoningField] = result.reasoning;
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

/**
 * A chat completion SSE stream. It opens at its first chunk, so a failure found before any token (an
 * overflow) can still be an HTTP 400, and a real engine's tokens go out while it decodes.
 */
class ChatStream {
  private writer: SseWriter | undefined;
  private readonly id = completionId("chatcmpl");
  private readonly created = Math.floor(Date.now() / 1000);
  /** No delta sent yet: the next one carries the role. */
  private first = true;
  /** The engine already streamed the content while decoding. */
  private streamedContent = false;

  constructor(
    private readonly ctx: RouteContext,
    private readonly instance: LoadedInstance,
    private readonly request: ChatCompletionRequest,
    private readonly flavor: "v1" | "v0",
  ) {}

  private chunk(delta: Record<string, unknown>, finishReason: string | null) {
    return {
      id: this.id,
      object: "chat.completion.chunk",
      created: this.created,
      model: this.instance.identifier,
      system_fingerprint: this.instance.identifier,
      choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }],
    };
  }

  private send(payload: unknown): Promise<boolean> {
    this.writer ??= new SseWriter(this.ctx);
    return this.writer.data(payload);
  }

  get opened(): boolean {
    return this.writer !== undefined;
  }

  /** An error frame, then the end of the stream without [DONE] (as llama.cpp ends a failed stream). */
  async fail(frame: unknown): Promise<void> {
    if (await this.send(frame)) this.ctx.res.end();
  }

  /** One content fragment; false once the client is gone (the engine then stops decoding). */
  content(fragment: string): Promise<boolean> {
    const delta = this.first ? { role: "assistant", content: fragment } : { content: fragment };
    this.first = false;
    this.streamedContent = true;
    return this.send(this.chunk(delta, null));
  }

  /** Everything not streamed yet, the finish chunk, usage (v1 only) and [DONE]. */
  async finish(result: GenerationResult): Promise<void> {
    let finishReason = "stop";
    if (result.kind === "tool_calls") {
      finishReason = "tool_calls";
      for (const [index, call] of result.calls.entries()) {
        // Only the first delta of a call carries id/type/name; later ones carry argument fragments.
        const head = { index, id: call.id, type: "function", function: { name: call.name, arguments: "" } };
        const delta = this.first ? { role: "assistant", tool_calls: [head] } : { tool_calls: [head] };
        this.first = false;
        if (!(await this.send(this.chunk(delta, null)))) return;
        for (const fragment of streamPieces(simulatorTokenPieces(call.arguments))) {
          const piece = { index, id: null, type: null, function: { name: null, arguments: fragment } };
          if (!(await this.send(this.chunk({ tool_calls: [piece] }, null)))) return;
        }
      }
    } else if (result.kind === "text") {
      finishReason = result.finishReason;
      if (result.reasoning !== undefined && !this.streamedContent) {
        for (const fragment of streamPieces(simulatorTokenPieces(result.reasoning))) {
          const field = this.instance.model.reasoningField;
          const delta = this.first ? { role: "assistant", [field]: fragment } : { [field]: fragment };
          this.first = false;
          if (!(await this.send(this.chunk(delta, null)))) return;
        }
      }
      if (!this.streamedContent) {
        for (const { text } of contentFragments(result)) if (!(await this.content(text))) return;
      }
      if (this.first && !(await this.content(""))) return;
    }
    if (!(await this.send(this.chunk({}, finishReason)))) return;
    // v0 streaming omits usage and stats (reference §2.1).
    if (this.request.includeUsage && this.flavor === "v1") {
      const usageChunk = { ...this.chunk({}, null), choices: [], usage: usageOf(result) };
      if (!(await this.send(usageChunk))) return;
    }
    this.writer ??= new SseWriter(this.ctx);
    await this.writer.done();
  }
}
