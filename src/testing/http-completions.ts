import { completionId, contentFragments, restV0Extras, usageOf } from "./completion-payloads.js";
import { requestTtlMs, resolveHttpInstance } from "./http-model-resolution.js";
import {
  HttpError,
  isRecord,
  optionalBoolean,
  optionalNonNegativeInt,
  optionalString,
  requireObjectBody,
  sendJson,
  validationError,
} from "./http-util.js";
import { generateInSlot, kvExhaustedHttpError } from "./pooled-generation.js";
import { type RouteContext, SseWriter } from "./route-context.js";

/** POST /v1/completions and /api/v0/completions: the raw prompt, no chat template. */
export async function handleCompletions(ctx: RouteContext, flavor: "v1" | "v0"): Promise<void> {
  const body = requireObjectBody(ctx.body);
  const model = optionalString(body, "model");
  const prompt = body.prompt;
  const rawPrompt =
    Array.isArray(prompt) && prompt.every((p) => typeof p === "string") ? prompt.join("") : prompt;
  if (typeof rawPrompt !== "string") throw validationError("'prompt' field must be a string");
  const maxTokens = optionalNonNegativeInt(body, "max_tokens");
  const stream = optionalBoolean(body, "stream") ?? false;
  const includeUsage = isRecord(body.stream_options) && body.stream_options.include_usage === true;
  const instance = await resolveHttpInstance(ctx.state, model, "llm", requestTtlMs(ctx.body));
  const result = await generateInSlot(
    instance,
    {
      model: instance.model,
      contextLength: instance.contextLength,
      dialect: ctx.state.dialectFor(instance.model),
      turns: [],
      rawPrompt,
      ...(maxTokens !== undefined ? { maxTokens } : {}),
    },
    ctx.state.options.timing,
  );
  // The answer is streamed only once complete, so an exhausted pool is always a plain HTTP 500 here.
  if (result.kind === "exhausted") throw kvExhaustedHttpError(result.message);
  if (result.kind === "overflow" || result.kind === "crash")
    throw new HttpError(400, { error: result.message });
  const text = result.kind === "text" ? result.content : "";
  const finishReason = result.kind === "text" ? result.finishReason : "stop";
  const id = completionId("cmpl");
  const created = Math.floor(Date.now() / 1000);
  const base = { id, object: "text_completion", created, model: instance.identifier };
  if (!stream) {
    sendJson(ctx.res, 200, {
      ...base,
      choices: [{ index: 0, text, logprobs: null, finish_reason: finishReason }],
      usage: usageOf(result),
      ...(flavor === "v0" ? restV0Extras(instance, result) : { stats: {} }),
      system_fingerprint: instance.identifier,
    });
    return;
  }
  const writer = new SseWriter(ctx);
  const fragments = result.kind === "text" ? contentFragments(result) : [];
  for (const { text: fragment } of fragments) {
    const chunk = { ...base, choices: [{ index: 0, text: fragment, logprobs: null, finish_reason: null }] };
    if (!(await writer.data(chunk))) return;
  }
  if (
    !(await writer.data({
      ...base,
      choices: [{ index: 0, text: "", logprobs: null, finish_reason: finishReason }],
    }))
  )
    return;
  if (
    includeUsage &&
    flavor === "v1" &&
    !(await writer.data({ ...base, choices: [], usage: usageOf(result) }))
  )
    return;
  await writer.done();
}
