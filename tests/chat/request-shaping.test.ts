import { tool } from "@langchain/core/tools";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { z as z3 } from "zod/v3";
import { z } from "zod/v4";
import { ChatLMStudio, type ChatLMStudioFields } from "../../src/index.js";
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
  usageFrame,
} from "./mock-lmstudio.js";

beforeAll(() => mockServer.listen({ onUnhandledFrame: "error" }));
afterEach(() => resetMock());
afterAll(() => mockServer.close());

const weather = tool(async ({ city }) => `Sunny in ${city}`, {
  name: "get_weather",
  description: "Weather for a city",
  schema: z.object({ city: z.string() }),
});
const time = tool(async () => "noon", {
  name: "get_time",
  description: "Current time",
  schema: z.object({ zone: z.string().optional() }),
});

function model(fields: ChatLMStudioFields = {}) {
  return new ChatLMStudio({
    baseUrl: MOCK_BASE_URL,
    model: "qwen2.5-7b-instruct",
    apiKey: undefined,
    maxRetries: 0,
    ...fields,
  });
}

function quietStream() {
  answerStream([chunk({ role: "assistant", content: "ok" }), chunk({}, "stop"), usageFrame(3, 1)]);
}

describe("request shaping (the exact bodies LM Studio receives)", () => {
  it('turns a named tool_choice into "required" and offers only that tool', async () => {
    answerJson(
      completion(
        {
          content: "",
          tool_calls: [{ id: "1", type: "function", function: { name: "get_time", arguments: "{}" } }],
        },
        { finish_reason: "tool_calls" },
      ),
    );
    await model().bindTools([weather, time], { tool_choice: "get_time" }).invoke("What time is it?");
    const body = lastBody();
    expect(body.tool_choice).toBe("required");
    expect((body.tools as Array<{ function: { name: string } }>).map((t) => t.function.name)).toEqual([
      "get_time",
    ]);
  });

  it("maps the object tool_choice form too, and keeps string choices as they are", async () => {
    answerJson(completion({ content: "hi" }));
    await model()
      .bindTools([weather], { tool_choice: { type: "function", function: { name: "get_weather" } } })
      .invoke("x");
    expect(lastBody().tool_choice).toBe("required");
    answerJson(completion({ content: "hi" }));
    await model().bindTools([weather, time], { tool_choice: "auto" }).invoke("x");
    expect(lastBody().tool_choice).toBe("auto");
    expect(lastBody().tools).toHaveLength(2);
  });

  it("rejects a named tool_choice that names no bound tool before sending anything", async () => {
    await expect(model().bindTools([weather], { tool_choice: "nope" }).invoke("x")).rejects.toThrow(
      /names "nope".*get_weather/,
    );
    expect(recordedCalls()).toHaveLength(0);
  });

  it("sends tools without a strict flag unless asked (strict-less servers)", async () => {
    answerJson(completion({ content: "hi" }));
    await model().bindTools([weather]).invoke("x");
    const [toolBody] = lastBody().tools as Array<{ function: Record<string, unknown> }>;
    expect(toolBody?.function).not.toHaveProperty("strict");
  });

  it("never sends json_object: JSON mode becomes a permissive json_schema", async () => {
    answerJson(completion({ content: '{"a":1}' }));
    await model().invoke("x", { response_format: { type: "json_object" } });
    const format = lastBody().response_format as { type: string; json_schema: { schema: unknown } };
    expect(format.type).toBe("json_schema");
    expect(format.json_schema.schema).toEqual({ type: "object", additionalProperties: true });
  });

  it("sends only max_tokens, even for model names ChatOpenAI treats as reasoning models", async () => {
    answerJson(completion({ content: "hi" }));
    await model({ model: "o3-local-finetune", maxTokens: 64 }).invoke("x");
    expect(lastBody().max_tokens).toBe(64);
    expect(lastBody()).not.toHaveProperty("max_completion_tokens");
  });

  it("sends system messages as system (never the developer role)", async () => {
    answerJson(completion({ content: "hi" }));
    await model({ model: "o1-distill" }).invoke([
      ["system", "be brief"],
      ["human", "x"],
    ]);
    expect((lastBody().messages as Array<{ role: string }>).map((m) => m.role)).toEqual(["system", "user"]);
  });

  it("asks for streamed usage by default and honours a per-call streamUsage override", async () => {
    quietStream();
    for await (const _ of await model().stream("x")) {
      // drain
    }
    expect(lastBody().stream_options).toEqual({ include_usage: true });

    quietStream();
    for await (const _ of await model().stream("x", { streamUsage: false })) {
      // drain
    }
    expect(lastBody()).not.toHaveProperty("stream_options");

    quietStream();
    for await (const _ of await model({ streamUsage: false }).stream("x", { streamUsage: true })) {
      // drain
    }
    expect(lastBody().stream_options).toEqual({ include_usage: true });
  });

  it("never sends stream_options on a non-streaming request", async () => {
    answerJson(completion({ content: "hi" }));
    await model().invoke("x");
    expect(lastBody()).not.toHaveProperty("stream_options");
    expect(lastBody().stream).toBe(false);
  });

  it("sends LM Studio's extras in snake_case, per instance and per call", async () => {
    answerJson(completion({ content: "hi" }));
    await model({
      topK: 40,
      minP: 0.05,
      repeatPenalty: 1.1,
      ttl: 300,
      draftModel: "qwen2.5-0.5b-instruct",
    }).invoke("x");
    expect(lastBody()).toMatchObject({
      top_k: 40,
      min_p: 0.05,
      repeat_penalty: 1.1,
      ttl: 300,
      draft_model: "qwen2.5-0.5b-instruct",
    });
    answerJson(completion({ content: "hi" }));
    await model({ topK: 40 }).invoke("x", { topK: 5 });
    expect(lastBody().top_k).toBe(5);
  });

  it("sends no Authorization header without a token, and the bearer token when set", async () => {
    answerJson(completion({ content: "hi" }));
    await model().invoke("x");
    expect(recordedCalls().at(-1)?.headers.get("authorization")).toBeNull();

    answerJson(completion({ content: "hi" }));
    await model({ apiKey: "sk-lm-abcdefgh:abcdefghijklmnopqrst" }).invoke("x");
    expect(recordedCalls().at(-1)?.headers.get("authorization")).toBe(
      "Bearer sk-lm-abcdefgh:abcdefghijklmnopqrst",
    );
  });
});

describe("structured output requests", () => {
  const person4 = z.object({ name: z.string(), age: z.number().optional() });
  const person3 = z3.object({ name: z3.string(), age: z3.number().optional() });

  it("defaults to json_schema with the schema as given (zod v4, optional field not required)", async () => {
    answerJson(completion({ content: '{"name":"Ada"}' }));
    const result = await model().withStructuredOutput(person4, { name: "person" }).invoke("Ada");
    expect(result).toEqual({ name: "Ada" });
    const format = lastBody().response_format as {
      type: string;
      json_schema: { name: string; schema: { required: string[] } };
    };
    expect(format.type).toBe("json_schema");
    expect(format.json_schema.name).toBe("person");
    expect(format.json_schema.schema.required).toEqual(["name"]);
    expect(format.json_schema).not.toHaveProperty("strict");
  });

  it("accepts zod v3 schemas with optional fields (no client-side strict-mode rejection)", async () => {
    answerJson(completion({ content: '{"name":"Ada","age":36}' }));
    const result = await model().withStructuredOutput(person3).invoke("Ada, 36");
    expect(result).toEqual({ name: "Ada", age: 36 });
    const format = lastBody().response_format as { json_schema: { schema: { properties: object } } };
    expect(Object.keys(format.json_schema.schema.properties)).toEqual(["name", "age"]);
  });

  it('functionCalling sends one tool and the string tool_choice "required"', async () => {
    answerJson(
      completion(
        {
          content: "",
          tool_calls: [
            { id: "7", type: "function", function: { name: "person", arguments: '{"name":"Ada"}' } },
          ],
        },
        { finish_reason: "tool_calls" },
      ),
    );
    const result = await model()
      .withStructuredOutput(person4, { method: "functionCalling", name: "person" })
      .invoke("Ada");
    expect(result).toEqual({ name: "Ada" });
    expect(lastBody().tool_choice).toBe("required");
    expect((lastBody().tools as unknown[]).length).toBe(1);
  });

  it("jsonMode sends json_schema (LM Studio has no json_object) and validates client-side", async () => {
    answerJson(completion({ content: '{"name":"Ada"}' }));
    const result = await model().withStructuredOutput(person4, { method: "jsonMode" }).invoke("Ada");
    expect(result).toEqual({ name: "Ada" });
    const format = lastBody().response_format as {
      type: string;
      json_schema: { schema: { required: string[] } };
    };
    expect(format.type).toBe("json_schema");
    expect(format.json_schema.schema.required).toEqual(["name"]);
  });

  it("includeRaw returns the message and the parsed value", async () => {
    answerJson(completion({ content: '{"name":"Ada"}' }));
    const result = await model().withStructuredOutput(person4, { includeRaw: true }).invoke("Ada");
    expect(result.parsed).toEqual({ name: "Ada" });
    expect(result.raw.content).toBe('{"name":"Ada"}');
  });

  it("no request in any method contains json_object or an object tool_choice", async () => {
    for (const method of ["jsonSchema", "functionCalling", "jsonMode"] as const) {
      answerJson(
        completion({
          content: '{"name":"Ada"}',
          tool_calls:
            method === "functionCalling"
              ? [{ id: "1", type: "function", function: { name: "extract", arguments: '{"name":"Ada"}' } }]
              : undefined,
        }),
      );
      await model().withStructuredOutput(person4, { method }).invoke("Ada");
    }
    for (const { body } of recordedCalls()) {
      expect(JSON.stringify(body)).not.toContain("json_object");
      expect(typeof (body.tool_choice ?? "none")).toBe("string");
    }
  });
});
