import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { countSimulatorTokens, type RunningSimulator, startSimulator } from "../../src/testing/index.js";
import { getJson } from "./helpers.js";

let sim: RunningSimulator;
let client: OpenAI;

beforeAll(async () => {
  sim = await startSimulator({ port: 0, loadTimeScale: 0 });
  client = new OpenAI({ baseURL: sim.baseUrl, apiKey: "lm-studio", maxRetries: 0 });
});
afterAll(async () => {
  await sim.close();
});

describe("/v1 with the openai client", () => {
  test("lists models in LM Studio's shape", async () => {
    const res = await getJson(`${sim.baseUrl}/models`);
    expect(res.headers.get("x-powered-by")).toBe("Express");
    expect(res.headers.get("access-control-allow-origin")).toBe("*");
    const body = res.body;
    expect(body.object).toBe("list");
    expect(body.data).toContainEqual({
      id: "qwen2.5-7b-instruct",
      object: "model",
      owned_by: "organization_owner",
    });
    for (const item of body.data as object[])
      expect(Object.keys(item).sort()).toEqual(["id", "object", "owned_by"]);
  });

  test("non-streaming chat echoes, with stats {} and system_fingerprint = model", async () => {
    const res = await client.chat.completions.create({
      model: "qwen2.5-7b-instruct",
      messages: [{ role: "user", content: "hello there" }],
    });
    expect(res.choices[0]?.message.content).toBe("You said: hello there");
    expect(res.choices[0]?.finish_reason).toBe("stop");
    expect(res.system_fingerprint).toBe("qwen2.5-7b-instruct");
    expect((res as unknown as { stats: unknown }).stats).toEqual({});
    const prompt = "<|im_start|>user\nhello there<|im_end|>\n<|im_start|>assistant\n";
    expect(res.usage?.prompt_tokens).toBe(countSimulatorTokens(prompt));
    expect(res.usage?.completion_tokens).toBe(countSimulatorTokens("You said: hello there"));
  });

  test("JIT-loads at 4096", async () => {
    expect(sim.loaded()).toContainEqual({
      identifier: "qwen2.5-7b-instruct",
      modelKey: "qwen2.5-7b-instruct",
      contextLength: 4096,
      jit: true,
    });
  });

  test("streaming with include_usage: usage only in a trailing chunk with empty choices", async () => {
    const stream = await client.chat.completions.create({
      model: "qwen2.5-7b-instruct",
      messages: [{ role: "user", content: "stream me please" }],
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = "";
    const chunks = [];
    for await (const chunk of stream) {
      chunks.push(chunk);
      text += chunk.choices[0]?.delta.content ?? "";
    }
    expect(text).toBe("You said: stream me please");
    const last = chunks.at(-1)!;
    expect(last.choices).toEqual([]);
    expect(last.usage?.completion_tokens).toBe(countSimulatorTokens(text));
    expect(chunks.slice(0, -1).every((c) => c.usage === undefined || c.usage === null)).toBe(true);
    expect(chunks.at(-2)?.choices[0]?.finish_reason).toBe("stop");
  });

  test("streaming without include_usage has no usage anywhere", async () => {
    const stream = await client.chat.completions.create({
      model: "qwen2.5-7b-instruct",
      messages: [{ role: "user", content: "x" }],
      stream: true,
    });
    for await (const chunk of stream) expect(chunk.usage ?? undefined).toBeUndefined();
  });
});
