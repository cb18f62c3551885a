import { LMStudioClient } from "@lmstudio/sdk";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { type RunningSimulator, startSimulator } from "../../src/testing/index.js";
import { getJson, type Json, postJson, postSse } from "./helpers.js";

/**
 * Issue 17 item 8: `/api/v1/chat` with its SSE events (docs 2_rest/chat.md, streaming-events.md),
 * SDK `files.prepareImageBase64`, and clear "not simulated" answers for the rest.
 */

const QWEN = "qwen2.5-7b-instruct";
const VL = "qwen2-vl-2b-instruct";
const RED_PIXEL_PNG =
  "iVBORw0KGgoAAAANSUhEUgAAAAoAAAAKCAYAAACNMs+9AAAAFUlEQVR42mP8z8BQz0AEYBxVSF+FABJADveWkH6oAAAAAElFTkSuQmCC";

let sim: RunningSimulator;
let origin: string;
beforeAll(async () => {
  sim = await startSimulator({
    loadTimeScale: 0,
    models: [
      { key: QWEN, type: "llm", maxContextLength: 32768 },
      { key: VL, type: "llm", maxContextLength: 32768, vision: true },
      { key: "r1", type: "llm", maxContextLength: 32768, reasoning: true },
      { key: "small", type: "llm", maxContextLength: 64 },
    ],
  });
  origin = sim.baseUrl.replace(/\/v1$/, "");
});
afterAll(async () => {
  await sim.close();
});

const chat = (body: Record<string, unknown>) => postJson(`${origin}/api/v1/chat`, body);

describe("POST /api/v1/chat", () => {
  test("JIT-loads the model, answers with output, stats and a response id", async () => {
    const res = await chat({ model: QWEN, input: "hello", context_length: 8192 });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      model_instance_id: QWEN,
      output: [{ type: "message", content: "You said: hello" }],
      stats: {
        input_tokens: expect.any(Number),
        total_output_tokens: expect.any(Number),
        reasoning_output_tokens: 0,
        tokens_per_second: expect.any(Number),
        time_to_first_token_seconds: expect.any(Number),
        model_load_time_seconds: expect.any(Number),
      },
      response_id: expect.stringMatching(/^resp_[0-9a-f]{48}$/),
    });
    expect(sim.loaded()).toContainEqual({ identifier: QWEN, modelKey: QWEN, contextLength: 8192, jit: true });
    // Already loaded now: no load time.
    const again = await chat({ model: QWEN, input: "again", store: false });
    expect(again.body.stats).not.toHaveProperty("model_load_time_seconds");
    expect(again.body).not.toHaveProperty("response_id");
  });

  test("previous_response_id continues the stored conversation", async () => {
    const first = await chat({
      model: QWEN,
      input: "The passkey for Ada is 4711. Remember it.",
      system_prompt: "Be terse.",
    });
    const second = await chat({
      model: QWEN,
      input: "What is the passkey for Ada?",
      previous_response_id: first.body.response_id,
    });
    expect(second.body.output).toEqual([{ type: "message", content: "The passkey for Ada is 4711." }]);
    expect(second.body.stats.input_tokens).toBeGreaterThan(first.body.stats.input_tokens);
    const unknown = await chat({ model: QWEN, input: "x", previous_response_id: "resp_nope" });
    expect(unknown.status).toBe(400);
    expect(unknown.body.error).toMatchObject({ type: "invalid_request", param: "previous_response_id" });
  });

  test("reasoning is a separate output item; a setting the model does not allow is an error", async () => {
    const res = await chat({ model: "r1", input: "hi", reasoning: "on" });
    expect(res.body.output.map((o: Json) => o.type)).toEqual(["reasoning", "message"]);
    expect(res.body.output[1].content).toBe("You said: hi");
    expect(res.body.stats.reasoning_output_tokens).toBeGreaterThan(0);
    const refused = await chat({ model: QWEN, input: "hi", reasoning: "high" });
    expect(refused.status).toBe(400);
    expect(refused.body.error).toMatchObject({ type: "invalid_request", param: "reasoning" });
  });

  test("image input: counted on a vision model, refused on others", async () => {
    const input = [
      { type: "text", content: "Describe this image" },
      { type: "image", data_url: `data:image/png;base64,${RED_PIXEL_PNG}` },
    ];
    const seen = await chat({ model: VL, input });
    const textOnly = await chat({ model: VL, input: "Describe this image", store: false });
    expect(seen.body.stats.input_tokens - textOnly.body.stats.input_tokens).toBe(256);
    const refused = await chat({ model: QWEN, input });
    expect(refused.body.error).toEqual({
      type: "invalid_request",
      message: "Model does not support images. Please use a model that does.",
      param: "input",
    });
  });

  test("errors use the /api/v1 shape: missing model, unknown model, integrations", async () => {
    const missing = await chat({ input: "hi" });
    expect(missing.status).toBe(400);
    expect(missing.body).toEqual({
      error: {
        type: "invalid_request",
        message: '"model" is required',
        code: "missing_required_parameter",
        param: "model",
      },
    });
    const unknown = await chat({ model: "nope", input: "hi" });
    expect(unknown.body.error).toMatchObject({ type: "model_not_found", param: "model" });
    const mcp = await chat({ model: QWEN, input: "hi", integrations: ["mcp/playwright"] });
    expect(mcp.status).toBe(501);
    expect(mcp.body.error.type).toBe("not_implemented");
  });

  test("stream: chat.start … chat.end, in the documented order, deltas adding up to the answer", async () => {
    const sse = await postSse(`${origin}/api/v1/chat`, { model: "r1", input: "hello", stream: true });
    expect(sse.contentType).toBe("text/event-stream");
    const events = sse.frames.map((f) => ({ event: f.event, data: JSON.parse(f.data) }));
    for (const e of events) expect(e.data.type).toBe(e.event);
    const names = events.map((e) => e.event);
    expect(names[0]).toBe("chat.start");
    expect(names.at(-1)).toBe("chat.end");
    expect(names.filter((n) => !n?.endsWith(".delta"))).toEqual([
      "chat.start",
      "model_load.start",
      "model_load.progress",
      "model_load.end",
      "prompt_processing.start",
      "prompt_processing.progress",
      "prompt_processing.end",
      "reasoning.start",
      "reasoning.end",
      "message.start",
      "message.end",
      "chat.end",
    ]);
    const text = (kind: string) =>
      events
        .filter((e) => e.event === `${kind}.delta`)
        .map((e) => e.data.content)
        .join("");
    const result = events.at(-1)!.data.result;
    expect(text("message")).toBe("You said: hello");
    expect(result.output).toEqual([
      { type: "reasoning", content: text("reasoning") },
      { type: "message", content: "You said: hello" },
    ]);
    expect(result.model_instance_id).toBe("r1");
  });

  test("stream overflow: an error event, then chat.end", async () => {
    const sse = await postSse(`${origin}/api/v1/chat`, {
      model: "small",
      input: "word ".repeat(200),
      stream: true,
    });
    const names = sse.frames.map((f) => f.event);
    expect(names.slice(-2)).toEqual(["error", "chat.end"]);
    const error = JSON.parse(sse.frames.at(-2)!.data);
    expect(error).toMatchObject({ type: "error", error: { type: "unknown" } });
    expect(error.error.message).toMatch(/greater than the context length/);
  });
});

describe("SDK files.prepareImageBase64", () => {
  test("uploads an image and the handle works as chat input on a vision model", async () => {
    const client = new LMStudioClient({ baseUrl: sim.wsUrl, logger: silentLogger() });
    try {
      const image = await client.files.prepareImageBase64("pixel.png", RED_PIXEL_PNG);
      expect(image.type).toBe("image");
      expect(image.sizeBytes).toBe(Buffer.from(RED_PIXEL_PNG, "base64").length);
      expect(image.name).toBe("pixel.png");
      const text = await client.files.prepareImageBase64("note.txt", Buffer.from("hello").toString("base64"));
      expect(text.type).toBe("text/plain");
      const model = await client.llm.model(VL, { verbose: false });
      const withImage = await model.respond([{ role: "user", content: "What is this?", images: [image] }]);
      const without = await model.respond([{ role: "user", content: "What is this?" }]);
      expect(withImage.stats.promptTokensCount! - without.stats.promptTokensCount!).toBe(256);
    } finally {
      await client[Symbol.asyncDispose]();
    }
  });
});

describe("endpoints that are not simulated answer clearly, never with a bare 404", () => {
  test("/v1/responses (OpenAI shape) and /v1/messages (Anthropic shape): 501 not simulated", async () => {
    const responses = await postJson(`${sim.baseUrl}/responses`, { model: QWEN, input: "hi" });
    expect(responses.status).toBe(501);
    expect(responses.body.error).toMatchObject({ type: "not_implemented", code: "not_simulated" });
    expect(responses.body.error.message).toMatch(/not simulated/);
    const messages = await postJson(`${sim.baseUrl}/messages`, { model: QWEN, max_tokens: 10, messages: [] });
    expect(messages.status).toBe(501);
    expect(messages.body).toMatchObject({ type: "error", error: { type: "not_implemented" } });
  });

  test("download: already_downloaded for a catalog model, not simulated otherwise; status: job_not_found", async () => {
    const have = await postJson(`${origin}/api/v1/models/download`, { model: QWEN });
    expect(have).toMatchObject({ status: 200, body: { status: "already_downloaded" } });
    const other = await postJson(`${origin}/api/v1/models/download`, { model: "ibm/granite-4-micro" });
    expect(other.status).toBe(501);
    expect(other.body.error).toMatchObject({ type: "not_implemented", param: "model" });
    const status = await getJson(`${origin}/api/v1/models/download/status/job_493c7c9ded`);
    expect(status.status).toBe(404);
    expect(status.body.error.type).toBe("job_not_found");
  });
});

function silentLogger() {
  const noop = () => {};
  return { info: noop, warn: noop, error: noop, debug: noop };
}
