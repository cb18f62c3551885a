import { InMemoryCache } from "@langchain/core/caches";
import type { BaseChatModelCallOptions } from "@langchain/core/language_models/chat_models";
import {
  AIMessage,
  AIMessageChunk,
  type BaseMessage,
  HumanMessage,
  SystemMessage,
  ToolMessage,
} from "@langchain/core/messages";
import { ChatPromptTemplate } from "@langchain/core/prompts";
import { RunnableLambda } from "@langchain/core/runnables";
import { StructuredTool, tool } from "@langchain/core/tools";
import { concat } from "@langchain/core/utils/stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z as z3 } from "zod/v3";
import { ChatLMStudio, type ChatLMStudioFields } from "../../src/index.js";
import { type RunningSimulator, startSimulator } from "../../src/testing/index.js";

/**
 * LangChain's standard chat-model contract (reference §2.4 and §2.5), restated in this project's
 * words and run against the simulator. Checks that need what LM Studio cannot do (remote image
 * URLs, audio, PDFs, parallel tool calls) are left out on purpose.
 */

const MODEL = "qwen2.5-7b-instruct";
const PIXEL_PNG =
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==";

/**
 * What the standard unit suite merges into every constructor call. The timeout is 60 s as in the
 * Python suite, but in milliseconds here: 60 ms made the simulator requests fail whenever the machine
 * was busy (e.g. next to the reliability suite's load test).
 */
const STANDARD_ARGS = { temperature: 0, maxTokens: 100, timeout: 60_000, stopSequences: [], maxRetries: 2 };

class AdderTool extends StructuredTool {
  name = "math_addition";
  description = "Adds a and b";
  schema = z3.object({ a: z3.number(), b: z3.number() });
  async _call({ a, b }: { a: number; b: number }) {
    return String(a + b);
  }
}

const adderSchema = z3.object({ a: z3.number().describe("first"), b: z3.number().describe("second") });

describe("standard unit contract (no server needed)", () => {
  const fields = { model: MODEL, baseUrl: "http://127.0.0.1:1/v1", ...STANDARD_ARGS };

  it("initialises, with an api key, and in streaming mode", () => {
    expect(new ChatLMStudio(fields)).toBeInstanceOf(ChatLMStudio);
    expect(new ChatLMStudio({ ...fields, apiKey: "test" })).toBeInstanceOf(ChatLMStudio);
    const streaming = new ChatLMStudio({ ...fields, streaming: true });
    expect(streaming.streaming).toBe(true);
    expect(new ChatLMStudio(MODEL, { baseUrl: fields.baseUrl }).model).toBe(MODEL);
  });

  it("bindTools keeps the class (unlike ChatOpenAI subclasses) and binds the tool", () => {
    const bound = new ChatLMStudio(fields).bindTools([new AdderTool()]);
    expect((bound as unknown as { bound: unknown }).bound).toBeInstanceOf(ChatLMStudio);
  });

  it("withStructuredOutput returns a runnable", () => {
    const structured = new ChatLMStudio(fields).withStructuredOutput(adderSchema);
    expect(typeof structured.invoke).toBe("function");
  });

  it("reports exactly the six standard LangSmith params, with provider lmstudio", () => {
    const params = new ChatLMStudio(fields).getLsParams({} as ChatLMStudio["ParsedCallOptions"]);
    expect(Object.keys(params).sort()).toEqual(
      ["ls_max_tokens", "ls_model_name", "ls_model_type", "ls_provider", "ls_stop", "ls_temperature"].sort(),
    );
    expect(params).toMatchObject({
      ls_provider: "lmstudio",
      ls_model_name: MODEL,
      ls_model_type: "chat",
      ls_temperature: 0,
      ls_max_tokens: 100,
    });
  });

  it("an already-aborted invoke rejects, and an aborted stream yields nothing", async () => {
    const model = new ChatLMStudio(fields);
    await expect(model.invoke("hi", { signal: AbortSignal.abort() })).rejects.toThrow();
    let received = 0;
    try {
      for await (const _ of await model.stream("hi", { signal: AbortSignal.abort() })) received += 1;
    } catch {
      // throwing is an accepted way to stop early
    }
    expect(received).toBe(0);
  });

  it("has its identity, and serialises without the token", () => {
    const model = new ChatLMStudio({ ...fields, apiKey: "sk-lm-abcdefgh:abcdefghijklmnopqrst" });
    expect(ChatLMStudio.lc_name()).toBe("ChatLMStudio");
    expect(model._llmType()).toBe("lmstudio");
    expect(model.lc_serializable).toBe(true);
    const json = JSON.stringify(model.toJSON());
    expect(json).not.toContain("abcdefghijklmnopqrst");
    expect(json).not.toContain("lm-studio-no-api-key");
    expect(JSON.parse(json).kwargs.api_key).toEqual({ lc: 1, type: "secret", id: ["LM_API_TOKEN"] });
    expect(JSON.parse(json).kwargs).not.toHaveProperty("configuration");
  });
});

describe("standard integration contract (simulator)", () => {
  let sim: RunningSimulator;
  beforeAll(async () => {
    sim = await startSimulator({ port: 0, loadTimeScale: 0 });
  });
  afterAll(async () => {
    await sim?.close();
  });
  const model = (fields: ChatLMStudioFields = {}) =>
    new ChatLMStudio({ baseUrl: sim.baseUrl, model: MODEL, ...STANDARD_ARGS, ...fields });

  async function gather(stream: AsyncIterable<AIMessageChunk>) {
    const chunks: AIMessageChunk[] = [];
    for await (const piece of stream) chunks.push(piece);
    return { chunks, whole: chunks.reduce((left, right) => concat(left, right)) };
  }

  it("invoke returns a non-empty AIMessage", async () => {
    const result = await model().invoke("Hello");
    expect(result).toBeInstanceOf(AIMessage);
    expect(result.text.length).toBeGreaterThan(0);
  });

  it("stream returns AIMessageChunks with non-empty text", async () => {
    const { chunks, whole } = await gather(await model().stream("Hello"));
    expect(chunks.every((piece) => piece instanceof AIMessageChunk)).toBe(true);
    expect(whole.text.length).toBeGreaterThan(0);
  });

  it("batch and a multi-turn conversation", async () => {
    const results = await model().batch(["Hello", "Hey"]);
    expect(results.every((result) => result.text.length > 0)).toBe(true);
    const reply = await model().invoke([
      new HumanMessage("hello"),
      new AIMessage("hi"),
      new HumanMessage("how are you"),
    ]);
    expect(reply.text).toBe("You said: how are you");
  });

  it("usage metadata and response_metadata.model on invoke, usage on stream", async () => {
    const result = await model().invoke("Hello");
    expect(result.usage_metadata).toEqual(
      expect.objectContaining({
        input_tokens: expect.any(Number),
        output_tokens: expect.any(Number),
        total_tokens: expect.any(Number),
      }),
    );
    expect(result.response_metadata.model).toEqual(expect.stringMatching(/.+/));
    const { whole } = await gather(await model().stream("Hello"));
    expect(whole.usage_metadata?.input_tokens).toEqual(expect.any(Number));
    expect(whole.usage_metadata?.total_tokens).toEqual(expect.any(Number));
  });

  const adder = new AdderTool();
  const callHistory = (content: AIMessage["content"]): BaseMessage[] => [
    new HumanMessage("What is 1 + 2"),
    new AIMessage({ content, tool_calls: [{ id: "abc123", name: "math_addition", args: { a: 1, b: 2 } }] }),
    new ToolMessage({ tool_call_id: "abc123", name: "math_addition", content: "3" }),
  ];

  it("accepts tool-message histories with string content", async () => {
    const result = await model().bindTools([adder]).invoke(callHistory(""));
    expect(result.text).toBe("The tool returned: 3");
  });

  it("accepts tool-message histories with list content (tool_use blocks are dropped)", async () => {
    const history = callHistory([
      { type: "text", text: "Let me add" },
      { type: "tool_use", id: "abc123", name: "math_addition", input: { a: 1, b: 2 } },
    ]);
    const result = await model().bindTools([adder]).invoke(history);
    expect(result.text).toBe("The tool returned: 3");
    const sent = sim.requests.filter((request) => request.path.endsWith("/chat/completions")).at(-1)?.body;
    expect(JSON.stringify(sent)).not.toContain("tool_use");
  });

  it("answers after few-shot examples that contain tool calls", async () => {
    const examples: BaseMessage[] = [
      new HumanMessage("What is 3 + 4"),
      new AIMessage({
        content: "",
        tool_calls: [{ id: "ex1", name: "math_addition", args: { a: 3, b: 4 } }],
      }),
      new ToolMessage({ tool_call_id: "ex1", content: "7" }),
      new AIMessage("7"),
    ];
    const result = await model()
      .bindTools([adder])
      .invoke([...examples, new HumanMessage("What is 1 + 2")]);
    expect(result.tool_calls?.[0]?.name).toBe("math_addition");
  });

  it("structured output through a prompt, with the traced method and schema", async () => {
    let traced: unknown;
    const prompt = ChatPromptTemplate.fromMessages([["human", "{input}"]]);
    const chain = prompt.pipe(model().withStructuredOutput(adderSchema, { name: "math_addition" }));
    const result = await chain.invoke(
      { input: "What is 1 + 2" },
      {
        callbacks: [
          {
            handleChatModelStart(_llm, _messages, _runId, _parent, extra) {
              traced = (extra?.options as BaseChatModelCallOptions | undefined)?.ls_structured_output_format;
            },
          },
        ],
      },
    );
    expect(result).toEqual({ a: 1, b: 2 });
    expect(traced).toMatchObject({ kwargs: { method: "jsonSchema" } });
  });

  it("structured output with includeRaw", async () => {
    const result = await model()
      .withStructuredOutput(adderSchema, { includeRaw: true })
      .invoke("What is 1 + 2");
    expect(result.parsed).toEqual({ a: 1, b: 2 });
    expect(result.raw).toBeInstanceOf(AIMessage);
  });

  it("binds OpenAI-format tools and RunnableLambda.asTool tools", async () => {
    const openAITool = {
      type: "function" as const,
      function: {
        name: "math_addition",
        description: "Adds a and b",
        parameters: {
          type: "object",
          properties: { a: { type: "number" }, b: { type: "number" } },
          required: ["a", "b"],
        },
      },
    };
    const byOpenAIFormat = await model().bindTools([openAITool]).invoke("What is 1 + 2");
    expect(byOpenAIFormat.tool_calls?.[0]?.name).toBe("math_addition");

    const lambdaTool = RunnableLambda.from(({ a, b }: { a: number; b: number }) => a + b).asTool({
      name: "math_addition",
      description: "Adds a and b",
      schema: z3.object({ a: z3.number(), b: z3.number() }),
    });
    const byLambda = await model().bindTools([lambdaTool]).invoke("What is 1 + 2");
    expect(byLambda.tool_calls?.[0]).toMatchObject({ name: "math_addition", args: { a: 1, b: 2 } });
  });

  it("serves a repeated call with complex message types from the cache", async () => {
    const cache = new InMemoryCache();
    const cached = model({ cache });
    const messages = [
      new SystemMessage("be terse"),
      new HumanMessage({ content: [{ type: "text", text: "cache me" }] }),
    ];
    const before = sim.requests.length;
    const first = await cached.invoke(messages);
    const second = await cached.invoke(messages);
    expect(second.text).toBe(first.text);
    expect(sim.requests.length - before).toBe(1);
  });

  it("streams tool calls with usage, and uses a tool-call history while streaming", async () => {
    const { whole } = await gather(await model().bindTools([adder]).stream("What is 1 + 2"));
    expect(whole.tool_calls?.[0]).toMatchObject({ name: "math_addition", args: { a: 1, b: 2 } });
    expect(whole.usage_metadata?.input_tokens).toBeGreaterThan(0);
    expect(whole.usage_metadata?.output_tokens).toBeGreaterThan(0);
    const followUp = await gather(await model().bindTools([adder]).stream(callHistory("")));
    expect(followUp.whole.text).toBe("The tool returned: 3");
  });

  it("accepts a tool defined with a structured params schema", async () => {
    const weather = tool(async ({ city }: { city: string }) => `sunny in ${city}`, {
      name: "get_weather",
      description: "weather in a city",
      schema: { type: "object", properties: { city: { type: "string" } }, required: ["city"] },
    });
    const result = await model().bindTools([weather]).invoke('Weather in "Oslo"');
    expect(result.tool_calls?.[0]).toMatchObject({ name: "get_weather", args: { city: "Oslo" } });
  });

  it("accepts standard text content blocks", async () => {
    const result = await model().invoke([
      new HumanMessage({ content: [{ type: "text", source_type: "text", text: "Hello blocks" }] as never }),
    ]);
    expect(result.text).toBe("You said: Hello blocks");
  });

  it("sends standard image blocks (base64 and data URL) as image_url data URLs to a vision model", async () => {
    const vision = model({ model: "qwen2-vl-2b-instruct" });
    for (const image of [
      { type: "image", source_type: "base64", mime_type: "image/png", data: PIXEL_PNG },
      { type: "image", source_type: "url", url: `data:image/png;base64,${PIXEL_PNG}` },
    ]) {
      const result = await vision.invoke([
        new HumanMessage({ content: [{ type: "text", text: "Describe" }, image] as never }),
      ]);
      expect(result.text.length).toBeGreaterThan(0);
      const sent = sim.requests.filter((request) => request.path.endsWith("/chat/completions")).at(-1)
        ?.body as {
        messages: Array<{ content: Array<{ type: string; image_url?: { url: string } }> }>;
      };
      const part = sent.messages.at(-1)?.content.find((piece) => piece.type === "image_url");
      expect(part?.image_url?.url).toBe(`data:image/png;base64,${PIXEL_PNG}`);
    }
  });
});
