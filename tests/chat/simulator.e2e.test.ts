import { ContextOverflowError } from "@langchain/core/errors";
import { AIMessage, type AIMessageChunk, HumanMessage, type ToolMessage } from "@langchain/core/messages";
import { tool } from "@langchain/core/tools";
import { concat } from "@langchain/core/utils/stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z as z3 } from "zod/v3";
import { z } from "zod/v4";
import {
  ChatLMStudio,
  type ChatLMStudioFields,
  LMStudioContextOverflowError,
  LMStudioModelNotFoundError,
  LMStudioNoModelLoadedError,
  LMStudioVisionNotSupportedError,
} from "../../src/index.js";
import { type RunningSimulator, startSimulator } from "../../src/testing/index.js";

const MODEL = "qwen2.5-7b-instruct";

let sim: RunningSimulator;
beforeAll(async () => {
  sim = await startSimulator({ port: 0, loadTimeScale: 0 });
});
afterAll(async () => {
  await sim?.close();
});

function model(fields: ChatLMStudioFields = {}) {
  return new ChatLMStudio({ baseUrl: sim.baseUrl, model: MODEL, maxRetries: 0, ...fields });
}

function chatRequests(server: RunningSimulator) {
  return server.requests.filter((request) => request.path.endsWith("/chat/completions"));
}

async function gather(stream: AsyncIterable<AIMessageChunk>): Promise<AIMessageChunk> {
  let whole: AIMessageChunk | undefined;
  for await (const piece of stream) whole = whole ? concat(whole, piece) : piece;
  if (!whole) throw new Error("empty stream");
  return whole;
}

const weather = tool(async ({ city }) => `18 degrees and sunny in ${city}`, {
  name: "get_weather",
  description: "Get the current weather for a city",
  schema: z.object({ city: z.string().describe("city name") }),
});

describe("ChatLMStudio against the simulator", () => {
  it("invoke answers with text, usage and model metadata", async () => {
    const message = await model().invoke("Hello there");
    expect(message).toBeInstanceOf(AIMessage);
    expect(message.text).toBe("You said: Hello there");
    expect(message.usage_metadata?.input_tokens).toBeGreaterThan(0);
    expect(message.usage_metadata?.output_tokens).toBeGreaterThan(0);
    expect(message.response_metadata.model).toBe(MODEL);
    expect(message.response_metadata.model_provider).toBe("lmstudio");
  });

  it("stream yields chunks whose sum is the answer, with usage", async () => {
    const chunks: AIMessageChunk[] = [];
    for await (const piece of await model().stream("Stream this please")) chunks.push(piece);
    expect(chunks.length).toBeGreaterThan(1);
    const whole = chunks.reduce((left, right) => concat(left, right));
    expect(whole.text).toBe("You said: Stream this please");
    expect(whole.usage_metadata?.input_tokens).toBeGreaterThan(0);
    expect(whole.usage_metadata?.output_tokens).toBeGreaterThan(0);
    expect(whole.response_metadata.model).toBe(MODEL);
    expect(chatRequests(sim).at(-1)?.body).toMatchObject({
      stream: true,
      stream_options: { include_usage: true },
    });
  });

  it("batch answers each input", async () => {
    const answers = await model().batch(["first", "second"]);
    expect(answers.map((answer) => answer.text)).toEqual(["You said: first", "You said: second"]);
  });

  it("tools: call, run, answer from the tool result", async () => {
    const withTools = model().bindTools([weather]);
    const question = new HumanMessage('What is the weather in "Oslo"?');
    const call = await withTools.invoke([question]);
    expect(call.tool_calls).toHaveLength(1);
    const [toolCall] = call.tool_calls ?? [];
    expect(toolCall?.name).toBe("get_weather");
    expect(toolCall?.args.city).toBe("Oslo");
    const result = (await weather.invoke(toolCall as NonNullable<typeof toolCall>)) as ToolMessage;
    const answer = await withTools.invoke([question, call, result]);
    expect(answer.text).toBe("The tool returned: 18 degrees and sunny in Oslo");
  });

  it("tools stream as tool_call chunks that assemble into a call, with usage", async () => {
    const whole = await gather(await model().bindTools([weather]).stream('Weather in "Paris"?'));
    expect(whole.tool_calls?.[0]).toMatchObject({ name: "get_weather", args: { city: "Paris" } });
    expect(whole.usage_metadata?.input_tokens).toBeGreaterThan(0);
    expect(whole.usage_metadata?.output_tokens).toBeGreaterThan(0);
  });

  describe("structured output", () => {
    const v4 = z.object({
      name: z.string().describe("the person's name"),
      age: z.number().describe("age in years"),
      nickname: z.string().optional(),
    });
    const v3 = z3.object({
      name: z3.string().describe("the person's name"),
      age: z3.number().describe("age in years"),
      nickname: z3.string().optional(),
    });

    for (const method of ["jsonSchema", "functionCalling", "jsonMode"] as const) {
      it(`${method} with zod v4 (optional field)`, async () => {
        const result = await model()
          .withStructuredOutput(v4, { method, name: "person" })
          .invoke('"Ada" is 36 years old');
        expect(result.age).toBe(36);
        expect(typeof result.name).toBe("string");
      });
    }

    it("jsonSchema with zod v3 (optional field) and includeRaw", async () => {
      const result = await model()
        .withStructuredOutput(v3, { includeRaw: true })
        .invoke('"Ada" is 36 years old');
      expect(result.parsed.age).toBe(36);
      expect(result.raw).toBeInstanceOf(AIMessage);
    });

    it("functionCalling with zod v3", async () => {
      const result = await model()
        .withStructuredOutput(v3, { method: "functionCalling" })
        .invoke('"Ada" is 36 years old');
      expect(result.age).toBe(36);
    });

    it("sent no json_object and no object tool_choice", () => {
      for (const request of chatRequests(sim)) {
        const body = request.body as Record<string, unknown>;
        expect((body.response_format as { type?: string } | undefined)?.type).not.toBe("json_object");
        expect(["undefined", "string"]).toContain(typeof body.tool_choice);
      }
    });
  });

  it("abort before the call rejects, and a mid-stream abort stops the stream", async () => {
    await expect(model().invoke("x", { signal: AbortSignal.abort() })).rejects.toThrow();
    const controller = new AbortController();
    const slow = await startSimulator({ port: 0, loadTimeScale: 0 });
    try {
      slow.injectFault({ kind: "latency", ms: 50, times: Number.POSITIVE_INFINITY });
      const received: string[] = [];
      const run = async () => {
        const stream = await new ChatLMStudio({ baseUrl: slow.baseUrl, model: MODEL, maxRetries: 0 }).stream(
          "a long enough sentence to stream in several pieces",
          { signal: controller.signal },
        );
        for await (const piece of stream) {
          received.push(piece.text);
          controller.abort();
        }
      };
      await expect(run()).rejects.toThrow();
      expect(received.length).toBe(1);
    } finally {
      await slow.close();
    }
  });

  it("a call timeout ends a request the server is slow to answer", async () => {
    const slow = await startSimulator({ port: 0, loadTimeScale: 0 });
    try {
      slow.injectFault({ kind: "latency", ms: 10_000, path: "/v1/chat/completions" });
      const chat = new ChatLMStudio({ baseUrl: slow.baseUrl, model: MODEL, maxRetries: 0 });
      await expect(chat.invoke("x", { timeout: 200 })).rejects.toThrow();
    } finally {
      await slow.close();
    }
  });

  it("a connection reset mid-stream is an error, not a silently short answer", async () => {
    const flaky = await startSimulator({ port: 0, loadTimeScale: 0 });
    try {
      flaky.injectFault({ kind: "reset-mid-stream", afterChunks: 2 });
      const chat = new ChatLMStudio({ baseUrl: flaky.baseUrl, model: MODEL, maxRetries: 0 });
      await expect(
        gather(await chat.stream("a sentence long enough to take several chunks")),
      ).rejects.toThrow();
    } finally {
      await flaky.close();
    }
  });

  it("retries a transient 503 and answers", async () => {
    const flaky = await startSimulator({ port: 0, loadTimeScale: 0 });
    try {
      flaky.injectFault({ kind: "status", status: 503, path: "/v1/chat/completions", times: 1 });
      const message = await new ChatLMStudio({ baseUrl: flaky.baseUrl, model: MODEL, maxRetries: 2 }).invoke(
        "again",
      );
      expect(message.text).toBe("You said: again");
      expect(chatRequests(flaky)).toHaveLength(2);
    } finally {
      await flaky.close();
    }
  });

  it("model not found and no model loaded are typed", async () => {
    const error = (await model({ model: "no-such-model" })
      .invoke("x")
      .catch((caught: unknown) => caught)) as LMStudioModelNotFoundError;
    expect(error).toBeInstanceOf(LMStudioModelNotFoundError);
    expect(error.model).toBe("no-such-model");
    expect(error.availableModels).toContain(MODEL);

    const noJit = await startSimulator({ port: 0, jit: false, loadTimeScale: 0 });
    try {
      await expect(
        new ChatLMStudio({ baseUrl: noJit.baseUrl, model: MODEL, maxRetries: 0 }).invoke("x"),
      ).rejects.toBeInstanceOf(LMStudioNoModelLoadedError);
    } finally {
      await noJit.close();
    }
  });

  it("an image sent to a text-only model is LMStudioVisionNotSupportedError naming a vision model", async () => {
    const pixel =
      "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==";
    const error = (await model()
      .invoke([
        new HumanMessage({
          content: [
            { type: "text", text: "What is this?" },
            { type: "image", source_type: "base64", mime_type: "image/png", data: pixel },
          ],
        }),
      ])
      .catch((caught: unknown) => caught)) as LMStudioVisionNotSupportedError;
    expect(error).toBeInstanceOf(LMStudioVisionNotSupportedError);
    expect(error.visionModels).toContain("qwen2-vl-2b-instruct");
  });

  it("profile is filled from the server's model list", async () => {
    const chat = await ChatLMStudio.fromServer({ baseUrl: sim.baseUrl, model: "qwen2-vl-2b-instruct" });
    expect(chat.profile).toMatchObject({ imageInputs: true, structuredOutput: true });
    await chat.invoke("load it");
    await chat.init();
    expect(chat.profile.maxInputTokens).toBe(4096);
  });
});

describe("every overflow dialect surfaces as ContextOverflowError", () => {
  const versions = ["0.3.x", "0.4.x", "0.4.21", "mlx"] as const;
  const longPrompt = "word ".repeat(6000);

  for (const lmStudioVersion of versions) {
    it(`LM Studio ${lmStudioVersion}: invoke and stream`, async () => {
      const server = await startSimulator({
        port: 0,
        lmStudioVersion,
        jitContextLength: 1024,
        loadTimeScale: 0,
      });
      try {
        const chat = new ChatLMStudio({ baseUrl: server.baseUrl, model: MODEL, maxRetries: 2 });
        const invokeError = await chat.invoke(longPrompt).catch((caught: unknown) => caught);
        expect(invokeError).toBeInstanceOf(LMStudioContextOverflowError);
        expect(ContextOverflowError.isInstance(invokeError)).toBe(true);
        const streamError = await (async () => gather(await chat.stream(longPrompt)))().catch(
          (caught: unknown) => caught,
        );
        expect(streamError).toBeInstanceOf(LMStudioContextOverflowError);
        // Overflow is final: neither call was retried.
        expect(chatRequests(server)).toHaveLength(2);
      } finally {
        await server.close();
      }
    });
  }

  it("a silent empty 200 stream is reported, not returned as an empty answer", async () => {
    const server = await startSimulator({ port: 0, loadTimeScale: 0 });
    try {
      server.injectFault({ kind: "empty-stream" });
      const run = async () =>
        gather(await new ChatLMStudio({ baseUrl: server.baseUrl, model: MODEL, maxRetries: 0 }).stream("x"));
      await expect(run()).rejects.toThrow(/empty response/);
    } finally {
      await server.close();
    }
  });
});
