import { ContextOverflowError } from "@langchain/core/errors";
import { AIMessageChunk } from "@langchain/core/messages";
import { concat } from "@langchain/core/utils/stream";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { ChatLMStudio, type ChatLMStudioFields } from "../../src/index.js";
import {
  LMStudioContextOverflowError,
  LMStudioEmptyResponseError,
  LMStudioModelNotFoundError,
  LMStudioNoModelLoadedError,
  LMStudioNoModelSelectedError,
  LMStudioRequestError,
  LMStudioVisionNotSupportedError,
} from "../../src/lmstudio/index.js";
import {
  answerFrames,
  answerJson,
  answerStream,
  chunk,
  completion,
  MOCK_BASE_URL,
  mockServer,
  recordedCalls,
  resetMock,
  usageFrame,
} from "./mock-lmstudio.js";

beforeAll(() => mockServer.listen({ onUnhandledFrame: "bypass" }));
afterEach(() => resetMock());
afterAll(() => mockServer.close());

function model(fields: ChatLMStudioFields = {}) {
  return new ChatLMStudio({ baseUrl: MOCK_BASE_URL, model: "qwen2.5-7b-instruct", maxRetries: 0, ...fields });
}

async function collect(
  stream: AsyncIterable<AIMessageChunk>,
): Promise<{ chunks: AIMessageChunk[]; whole: AIMessageChunk }> {
  const chunks: AIMessageChunk[] = [];
  for await (const piece of stream) chunks.push(piece);
  const whole = chunks.reduce((left, right) => concat(left, right));
  return { chunks, whole };
}

/** Errors can surface when the stream starts or mid-way; both count as the stream failing. */
async function streamAll(chat: ChatLMStudio, input: string) {
  return collect(await chat.stream(input));
}

describe("invoke responses", () => {
  it("returns text, usage_metadata and LM Studio's response_metadata", async () => {
    answerJson(
      completion(
        { content: "Hello there" },
        { usage: { prompt_tokens: 12, completion_tokens: 3, total_tokens: 15 } },
      ),
    );
    const message = await model().invoke("Hi");
    expect(message.content).toBe("Hello there");
    expect(message.usage_metadata).toMatchObject({ input_tokens: 12, output_tokens: 3, total_tokens: 15 });
    expect(message.response_metadata).toMatchObject({
      model: "qwen2.5-7b-instruct",
      model_name: "qwen2.5-7b-instruct",
      model_provider: "lmstudio",
      finish_reason: "stop",
    });
  });

  it("parses tool calls", async () => {
    answerJson(
      completion(
        {
          content: "",
          tool_calls: [
            {
              id: "365174485",
              type: "function",
              function: { name: "get_weather", arguments: '{"city":"Oslo"}' },
            },
          ],
        },
        { finish_reason: "tool_calls" },
      ),
    );
    const message = await model().invoke("Weather in Oslo?");
    expect(message.tool_calls).toEqual([
      { id: "365174485", name: "get_weather", args: { city: "Oslo" }, type: "tool_call" },
    ]);
  });

  it("moves reasoning_content, gpt-oss `reasoning` and <think> tags out of the answer", async () => {
    answerJson(completion({ content: "42", reasoning_content: "add them" }));
    const separate = await model().invoke("x");
    expect(separate.content).toBe("42");
    expect(separate.additional_kwargs.reasoning_content).toBe("add them");

    answerJson(completion({ content: "42", reasoning: "gpt-oss thinks" }));
    expect((await model().invoke("x")).additional_kwargs.reasoning_content).toBe("gpt-oss thinks");

    answerJson(completion({ content: "<think>6 times 7</think>\n\n42" }));
    const inline = await model().invoke("x");
    expect(inline.content).toBe("42");
    expect(inline.additional_kwargs.reasoning_content).toBe("6 times 7");
    expect(inline.contentBlocks).toEqual([
      { type: "reasoning", reasoning: "6 times 7" },
      { type: "text", text: "42" },
    ]);
  });

  it("parses structured output from a reasoning model without the think block breaking JSON", async () => {
    answerJson(completion({ content: '<think>fill the schema</think>{"name":"Ada"}' }));
    const result = await model()
      .withStructuredOutput({ type: "object", properties: { name: { type: "string" } } })
      .invoke("Ada");
    expect(result).toEqual({ name: "Ada" });
  });
});

describe("stream responses", () => {
  it("streams text with usage and a single model name in the merged metadata", async () => {
    answerStream([
      chunk({ role: "assistant", content: "Hel" }),
      chunk({ content: "lo" }),
      chunk({}, "stop"),
      usageFrame(9, 2),
    ]);
    const { chunks, whole } = await collect(await model().stream("Hi"));
    expect(chunks.every((piece) => piece instanceof AIMessageChunk)).toBe(true);
    expect(whole.content).toBe("Hello");
    expect(whole.usage_metadata).toMatchObject({ input_tokens: 9, output_tokens: 2, total_tokens: 11 });
    expect(whole.response_metadata).toMatchObject({
      model: "qwen2.5-7b-instruct",
      model_name: "qwen2.5-7b-instruct",
      model_provider: "lmstudio",
      finish_reason: "stop",
    });
  });

  it("streams tool calls assembled from deltas", async () => {
    answerStream([
      chunk({
        role: "assistant",
        tool_calls: [
          { index: 0, id: "814890118", type: "function", function: { name: "get_weather", arguments: "" } },
        ],
      }),
      chunk({
        tool_calls: [{ index: 0, id: null, type: null, function: { name: null, arguments: '{"city":' } }],
      }),
      chunk({ tool_calls: [{ index: 0, function: { arguments: '"Oslo"}' } }] }),
      chunk({}, "tool_calls"),
      usageFrame(20, 8),
    ]);
    const { whole } = await collect(await model().stream("Weather in Oslo?"));
    expect(whole.tool_calls).toEqual([
      { id: "814890118", name: "get_weather", args: { city: "Oslo" }, type: "tool_call" },
    ]);
    expect(whole.usage_metadata?.output_tokens).toBe(8);
  });

  it("splits <think> tags that arrive cut across chunks", async () => {
    answerStream([
      chunk({ role: "assistant", content: "<th" }),
      chunk({ content: "ink>step " }),
      chunk({ content: "one</thi" }),
      chunk({ content: "nk>\n\nThe ans" }),
      chunk({ content: "wer is 4<" }),
      chunk({ content: "3" }),
      chunk({}, "stop"),
    ]);
    const { chunks, whole } = await collect(await model().stream("x"));
    expect(whole.content).toBe("The answer is 4<3");
    expect(whole.additional_kwargs.reasoning_content).toBe("step one");
    expect(chunks.some((piece) => String(piece.content).includes("<"))).toBe(true);
    expect(chunks.every((piece) => !String(piece.content).includes("think"))).toBe(true);
  });

  it("recognises a non-streamed answer whose template opened <think> by its orphan closing tag", async () => {
    answerJson(completion({ content: "6 times 7 is 42</think>\n\nThe answer is 42." }));
    const reply = await model().invoke("x");
    expect(reply.content).toBe("The answer is 42.");
    expect(reply.additional_kwargs.reasoning_content).toBe("6 times 7 is 42");
  });

  it("with templateOpensThink, streamed text is reasoning until </think>, even with the tag cut across chunks", async () => {
    answerStream([
      chunk({ role: "assistant", content: "6 tim" }),
      chunk({ content: "es 7</thi" }),
      chunk({ content: "nk>\n\n42" }),
      chunk({}, "stop"),
    ]);
    const { chunks, whole } = await collect(await model({ templateOpensThink: true }).stream("x"));
    expect(whole.content).toBe("42");
    expect(whole.additional_kwargs.reasoning_content).toBe("6 times 7");
    expect(chunks.every((piece) => !String(piece.content).includes("think"))).toBe(true);
  });

  it("without templateOpensThink, an orphan </think> in a stream never reaches the answer text", async () => {
    answerStream([
      chunk({ role: "assistant", content: "thinking</th" }),
      chunk({ content: "ink>\n\nanswer" }),
      chunk({}, "stop"),
    ]);
    const { whole } = await collect(await model().stream("x"));
    // What streamed before the tag was already sent as text; the tag itself is dropped.
    expect(whole.content).toBe("thinkinganswer");
  });

  it("keeps streamed reasoning_content / reasoning deltas separate from text", async () => {
    answerStream([
      chunk({ role: "assistant", reasoning_content: "hmm " }),
      chunk({ reasoning: "ok" }),
      chunk({ content: "done" }),
      chunk({}, "stop"),
    ]);
    const { whole } = await collect(await model().stream("x"));
    expect(whole.content).toBe("done");
    expect(whole.additional_kwargs.reasoning_content).toBe("hmm ok");
  });

  it("the content-block event stream (streamEvents) carries the same split reasoning and text", async () => {
    answerStream([
      chunk({ role: "assistant", content: "<think>why</think>" }),
      chunk({ content: "because" }),
      chunk({}, "stop"),
      usageFrame(5, 2),
    ]);
    const events = model().streamEvents("x");
    const kinds: string[] = [];
    for await (const event of events) kinds.push(event.event);
    const message = await events.output;
    expect(kinds[0]).toBe("message-start");
    expect(kinds.at(-1)).toBe("message-finish");
    expect(message.text).toBe("because");
    expect(message.usage_metadata?.output_tokens).toBe(2);
  });

  it("invoke on a streaming model gathers the stream, with usage", async () => {
    answerStream([
      chunk({ role: "assistant", content: "a" }),
      chunk({ content: "b" }),
      chunk({}, "stop"),
      usageFrame(4, 2),
    ]);
    const message = await model({ streaming: true }).invoke("x");
    expect(message.content).toBe("ab");
    expect(message.usage_metadata).toMatchObject({ input_tokens: 4, output_tokens: 2 });
    expect(message.response_metadata.model).toBe("qwen2.5-7b-instruct");
  });

  it("a 200 body whose choices are missing, not a list, or without a message is an empty response", async () => {
    for (const body of [{}, { choices: 5 }, { choices: [{ index: 0, finish_reason: "stop" }] }]) {
      answerJson(body);
      await expect(model().invoke("x")).rejects.toBeInstanceOf(LMStudioEmptyResponseError);
    }
  });

  it("a silent empty 200 stream is an LMStudioEmptyResponseError, not an empty answer", async () => {
    answerStream([]);
    await expect(streamAll(model(), "x")).rejects.toBeInstanceOf(LMStudioEmptyResponseError);
  });
});

describe("errors", () => {
  const overflowMessages = [
    "<LM Studio error> Trying to keep the first 15857 tokens when context the overflows. However, the model is loaded with context length of only 4096 tokens, which is not enough. Try to load the model with a larger context length, or provide a shorter input. Error Data: n/a, Additional Data: n/a",
    "The number of tokens to keep from the initial prompt is greater than the context length (n_keep: 13055>= n_ctx: 4096). Try to load the model with a larger context length, or provide a shorter input.",
    "Input does not fit in context length. The input has 31430 tokens, but the context length only supports 30000 tokens.",
    "Context size has been exceeded.",
  ];

  it.each(overflowMessages)("maps the overflow wording to ContextOverflowError: %s", async (text) => {
    answerJson({ error: text }, 400);
    const error = await model()
      .invoke("x")
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(LMStudioContextOverflowError);
    expect(ContextOverflowError.isInstance(error)).toBe(true);
  });

  it("carries the token numbers when the wording has them", async () => {
    answerJson({ error: overflowMessages[1] }, 400);
    const error = (await model()
      .invoke("x")
      .catch((caught: unknown) => caught)) as LMStudioContextOverflowError;
    expect(error.promptTokens).toBe(13055);
    expect(error.contextLength).toBe(4096);
  });

  it("maps an HTTP 200 `event: error` frame mid-stream (0.4.21) to ContextOverflowError", async () => {
    const text = overflowMessages[2];
    answerFrames([{ event: "error", data: { error: { message: text }, message: text } }], false);
    const error = (await streamAll(model(), "x").catch(
      (caught: unknown) => caught,
    )) as LMStudioContextOverflowError;
    expect(error).toBeInstanceOf(LMStudioContextOverflowError);
    expect(error.promptTokens).toBe(31430);
    expect(error.contextLength).toBe(30000);
  });

  it("does not retry an overflow (one request only)", async () => {
    answerJson({ error: overflowMessages[0] }, 400);
    await model({ maxRetries: 3 })
      .invoke("x")
      .catch(() => undefined);
    expect(recordedCalls()).toHaveLength(1);
  });

  it("model not found names the model and the available ones", async () => {
    answerJson(
      {
        error: {
          message:
            'Invalid model identifier "o4-mini". Please specify a valid downloaded model (e.g., qwen2.5-7b-instruct, qwen2-vl-2b-instruct).',
          type: "invalid_request_error",
          param: "model",
          code: "model_not_found",
        },
      },
      400,
    );
    const error = (await model({ model: "o4-mini" })
      .invoke("x")
      .catch((caught: unknown) => caught)) as LMStudioModelNotFoundError;
    expect(error).toBeInstanceOf(LMStudioModelNotFoundError);
    expect(error.model).toBe("o4-mini");
    expect(error.availableModels).toEqual(["qwen2.5-7b-instruct", "qwen2-vl-2b-instruct"]);
  });

  it("a model without a model name fails with a typed error before any request", async () => {
    const unnamed = new ChatLMStudio({ settings: { baseUrl: MOCK_BASE_URL }, maxRetries: 0 });
    for (const call of [() => unnamed.invoke("x"), () => streamAll(unnamed, "x")]) {
      const error = await call().catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(LMStudioNoModelSelectedError);
      expect((error as Error).message).toContain("LMSTUDIO_MODEL");
    }
    expect(recordedCalls()).toHaveLength(0);
  });

  it("no model loaded and non-VLM images get their own error types", async () => {
    answerJson(
      { error: "No models loaded. Please load a model in the developer page or use the 'lms load' command." },
      400,
    );
    await expect(model().invoke("x")).rejects.toBeInstanceOf(LMStudioNoModelLoadedError);
    answerJson({ error: "Model does not support images. Please use a model that does." }, 400);
    await expect(model().invoke("x")).rejects.toBeInstanceOf(LMStudioVisionNotSupportedError);
  });

  it("retries a transient 503 and then succeeds", async () => {
    answerJson({ error: "busy" }, 503);
    answerJson(completion({ content: "recovered" }));
    const message = await model({ maxRetries: 2 }).invoke("x");
    expect(message.content).toBe("recovered");
    expect(recordedCalls()).toHaveLength(2);
  });

  it("gives up after the allowed retries with a typed request error", async () => {
    answerJson({ error: "busy" }, 500);
    answerJson({ error: "busy" }, 500);
    const error = (await model({ maxRetries: 1 })
      .invoke("x")
      .catch((caught: unknown) => caught)) as LMStudioRequestError;
    expect(error).toBeInstanceOf(LMStudioRequestError);
    expect(error.status).toBe(500);
    expect(recordedCalls()).toHaveLength(2);
  });
});
