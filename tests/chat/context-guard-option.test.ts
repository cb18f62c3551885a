import { ContextOverflowError } from "@langchain/core/errors";
import { type BaseMessage, HumanMessage, SystemMessage } from "@langchain/core/messages";
import { tool } from "@langchain/core/tools";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod/v4";
import type { ChatClampRequest, ChatClampResult, ContextGuardLike } from "../../src/context-guard/types.js";
import { ChatLMStudio, LMStudioContextOverflowError } from "../../src/index.js";
import {
  answerJson,
  answerStream,
  chunk,
  completion,
  lastBody,
  MOCK_BASE_URL,
  mockServer,
  recordedCalls,
  resetMock,
} from "./mock-lmstudio.js";

beforeAll(() => mockServer.listen({ onUnhandledFrame: "error" }));
afterEach(() => resetMock());
afterAll(() => mockServer.close());

/** A guard that records what it was asked and answers with a fixed clamp (keeps the last message). */
class FakeGuard implements ContextGuardLike {
  readonly requests: ChatClampRequest[] = [];
  constructor(private readonly behaviour: "trim" | "overflow" = "trim") {}

  async clampChat(request: ChatClampRequest): Promise<ChatClampResult> {
    this.requests.push(request);
    if (this.behaviour === "overflow") {
      throw new LMStudioContextOverflowError("too long", {
        promptTokens: 9000,
        contextLength: 4096,
        dialect: "context-guard",
      });
    }
    const kept: BaseMessage[] = request.messages.slice(-1);
    return {
      model: "qwen2.5-7b-instruct:2",
      messages: kept,
      maxTokens: 123,
      promptTokens: 10,
      contextLength: 4096,
    };
  }

  async clampEmbedding(model: string, texts: string[]) {
    return { model, contextLength: 2048, tokenCounts: texts.map(() => 1) };
  }
}

const history = [
  new SystemMessage("long system prompt"),
  new HumanMessage("old"),
  new HumanMessage("latest"),
];

describe("contextGuard option", () => {
  it("clamps before each request and sends the guard's model, messages and max_tokens", async () => {
    const guard = new FakeGuard();
    const weather = tool(async () => "sunny", {
      name: "get_weather",
      description: "weather",
      schema: z.object({ city: z.string() }),
    });
    const model = new ChatLMStudio({
      baseUrl: MOCK_BASE_URL,
      model: "qwen2.5-7b-instruct",
      maxTokens: 500,
      contextGuard: guard,
      overflow: "trim",
    }).bindTools([weather]);

    answerJson(completion({ content: "ok" }));
    await model.invoke(history);
    expect(guard.requests).toHaveLength(1);
    const [request] = guard.requests;
    expect(request?.model).toBe("qwen2.5-7b-instruct");
    expect(request?.messages.map((message) => message.text)).toEqual(["long system prompt", "old", "latest"]);
    expect(request?.maxTokens).toBe(500);
    expect(request?.overflow).toBe("trim");
    expect(request?.tools).toHaveLength(1);
    expect(lastBody()).toMatchObject({
      model: "qwen2.5-7b-instruct:2",
      max_tokens: 123,
      messages: [{ role: "user", content: "latest" }],
    });

    answerStream([chunk({ role: "assistant", content: "ok" }), chunk({}, "stop")]);
    for await (const _ of await model.stream(history)) {
      // drain
    }
    expect(guard.requests).toHaveLength(2);
    expect(lastBody()).toMatchObject({ model: "qwen2.5-7b-instruct:2", max_tokens: 123 });
  });

  it("a guard options object instead of a guard fails when the model is built, naming the option", () => {
    // What a JavaScript caller may write; TypeScript rejects it, hence the cast.
    const options = { contextGuard: { registryPath: "/tmp/registry.json" } } as unknown as {
      contextGuard: true;
    };
    expect(() => new ChatLMStudio("qwen2.5-7b-instruct", options)).toThrow(
      expect.objectContaining({
        name: "TypeError",
        message: expect.stringMatching(/^contextGuard must be .*createContextGuard/),
      }),
    );
    expect(() => new ChatLMStudio("qwen2.5-7b-instruct", { contextGuard: new FakeGuard() })).not.toThrow();
    expect(() => new ChatLMStudio("qwen2.5-7b-instruct", { contextGuard: false })).not.toThrow();
  });

  it("uses the per-call overflow policy over the instance's", async () => {
    const guard = new FakeGuard();
    const model = new ChatLMStudio({ baseUrl: MOCK_BASE_URL, model: "m", contextGuard: guard });
    answerJson(completion({ content: "ok" }));
    await model.invoke(history, { overflow: "truncate-middle" });
    expect(guard.requests[0]?.overflow).toBe("truncate-middle");
  });

  it("the guard's overflow error reaches the caller as ContextOverflowError, with nothing sent", async () => {
    const model = new ChatLMStudio({
      baseUrl: MOCK_BASE_URL,
      model: "m",
      contextGuard: new FakeGuard("overflow"),
    });
    const error = await model.invoke(history).catch((caught: unknown) => caught);
    expect(ContextOverflowError.isInstance(error)).toBe(true);
    expect(recordedCalls()).toHaveLength(0);
  });

  it("no guard, no clamping: the request is sent as built", async () => {
    answerJson(completion({ content: "ok" }));
    await new ChatLMStudio({ baseUrl: MOCK_BASE_URL, model: "m", maxTokens: 7 }).invoke(history);
    expect(lastBody()).toMatchObject({ model: "m", max_tokens: 7 });
    expect(lastBody().messages).toHaveLength(3);
  });
});
