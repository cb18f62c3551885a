import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { type RunningSimulator, startSimulator } from "../../src/testing/index.js";
import { postJson, postSse } from "./helpers.js";

const MODEL = "qwen2.5-7b-instruct";
let sim: RunningSimulator;
let client: OpenAI;

function filler(tokens: number): string {
  // " abcd" is exactly one simulator token.
  return Array.from({ length: tokens }, () => " abcd").join("");
}

beforeAll(async () => {
  sim = await startSimulator({
    loadTimeScale: 0,
    models: [
      {
        key: MODEL,
        type: "llm",
        maxContextLength: 32768,
        effectiveContext: 2000,
        fillLimit: 6000,
        trainedForToolUse: true,
      },
      { key: "thinker", type: "llm", maxContextLength: 8192, reasoning: true },
    ],
    preload: [{ key: MODEL, contextLength: 8192 }],
  });
  client = new OpenAI({ baseURL: sim.baseUrl, apiKey: "x", maxRetries: 0 });
});
afterAll(async () => {
  await sim.close();
});

const ask = async (content: string, extra: Record<string, unknown> = {}) =>
  postJson(`${sim.baseUrl}/chat/completions`, {
    model: MODEL,
    messages: [{ role: "user", content }],
    ...extra,
  });

describe("deterministic generation", () => {
  test("same request → same answer", async () => {
    const a = await ask("repeat after me");
    const b = await ask("repeat after me");
    expect(a.body.choices[0].message).toEqual(b.body.choices[0].message);
  });

  test("max_tokens cuts with finish_reason length", async () => {
    const res = await ask("one two three four five six", { max_tokens: 2 });
    expect(res.body.choices[0].finish_reason).toBe("length");
    expect(res.body.usage.completion_tokens).toBe(2);
    expect(res.body.choices[0].message.content).toBe("You said");
  });

  test("passkey recall within effectiveContext is right", async () => {
    const res = await ask(
      "The passkey for Alice is 7731. The passkey for Bob is X9Z2.\nWhat is the passkey for Alice? What is the passkey for Bob?",
    );
    expect(res.body.choices[0].message.content).toBe(
      "The passkey for Alice is 7731.\nThe passkey for Bob is X9Z2.",
    );
  });

  test("beyond effectiveContext the recalled value is wrong, deterministically", async () => {
    const prompt = `The passkey for Alice is 7731.${filler(2500)}\nWhat is the passkey for Alice?`;
    const res = await ask(prompt);
    const content: string = res.body.choices[0].message.content;
    expect(content).toMatch(/^The passkey for Alice is \d{4}\.$/);
    expect(content).not.toContain("7731");
    expect((await ask(prompt)).body.choices[0].message.content).toBe(content);
  });

  test("a prompt over fillLimit (but within context) crashes", async () => {
    const res = await ask(filler(6500));
    expect(res.status).toBe(400);
    expect(res.body).toEqual({
      error: "The model has crashed without additional information. (Exit code: 18446744072635812000)",
    });
  });

  test("identifier-named string arguments take id-like tokens from the text, in order", async () => {
    const tools = [
      {
        type: "function" as const,
        function: {
          name: "link_claim",
          description: "Link a patient to an insurance claim",
          parameters: {
            type: "object",
            properties: {
              patientId: { type: "string" },
              claim_number: { type: "string" },
              note: { type: "string" },
            },
            required: ["patientId", "claim_number", "note"],
          },
        },
      },
    ];
    const content = "Link patient P-1001 to claim 88-2031 please.";
    const res = await client.chat.completions.create({
      model: MODEL,
      messages: [{ role: "user", content }],
      tools,
    });
    const call = res.choices[0]!.message.tool_calls![0]!;
    if (call.type !== "function") throw new Error("expected a function call");
    // Prose fields still get the text itself.
    expect(JSON.parse(call.function.arguments)).toEqual({
      patientId: "P-1001",
      claim_number: "88-2031",
      note: content,
    });
  });

  test("tool call with numeric-string id and arguments from the user text", async () => {
    const tools = [
      {
        type: "function" as const,
        function: {
          name: "get_weather",
          description: "Get the weather for a city",
          parameters: {
            type: "object",
            properties: {
              city: { type: "string" },
              days: { type: "integer" },
              unit: { type: "string", enum: ["celsius", "fahrenheit"] },
            },
            required: ["city", "days", "unit"],
          },
        },
      },
      {
        type: "function" as const,
        function: {
          name: "send_email",
          description: "Send an email",
          parameters: { type: "object", properties: {} },
        },
      },
    ];
    const res = await client.chat.completions.create({
      model: MODEL,
      messages: [{ role: "user", content: 'What is the weather in "Paris" for 3 days, in fahrenheit?' }],
      tools,
    });
    const choice = res.choices[0]!;
    expect(choice.finish_reason).toBe("tool_calls");
    const call = choice.message.tool_calls![0]!;
    expect(call.id).toMatch(/^\d+$/);
    expect(call.type).toBe("function");
    if (call.type !== "function") throw new Error("expected a function call");
    expect(call.function.name).toBe("get_weather");
    expect(JSON.parse(call.function.arguments)).toEqual({ city: "Paris", days: 3, unit: "fahrenheit" });

    // Streaming: only the first delta carries id/type/name.
    const stream = await client.chat.completions.create({
      model: MODEL,
      messages: [{ role: "user", content: 'What is the weather in "Paris" for 3 days, in fahrenheit?' }],
      tools,
      stream: true,
    });
    const deltas = [];
    let finish: string | null = null;
    for await (const chunk of stream) {
      for (const d of chunk.choices[0]?.delta.tool_calls ?? []) deltas.push(d);
      finish = chunk.choices[0]?.finish_reason ?? finish;
    }
    expect(finish).toBe("tool_calls");
    expect(deltas[0]).toMatchObject({
      index: 0,
      id: call.id,
      type: "function",
      function: { name: "get_weather", arguments: "" },
    });
    expect(deltas.length).toBeGreaterThan(1);
    for (const d of deltas.slice(1)) {
      expect(d.id).toBeNull();
      expect(d.type).toBeNull();
      expect(d.function?.name).toBeNull();
    }
    expect(deltas.map((d) => d.function?.arguments ?? "").join("")).toBe(call.function.arguments);
  });

  test("tool_choice none → plain answer; tool result → 'The tool returned: …'", async () => {
    const tools = [
      { type: "function", function: { name: "lookup", parameters: { type: "object", properties: {} } } },
    ];
    const none = await ask("hi", { tools, tool_choice: "none" });
    expect(none.body.choices[0].message.content).toBe("You said: hi");
    const after = await postJson(`${sim.baseUrl}/chat/completions`, {
      model: MODEL,
      tools,
      messages: [
        { role: "user", content: "look it up" },
        {
          role: "assistant",
          tool_calls: [{ id: "1", type: "function", function: { name: "lookup", arguments: "{}" } }],
        },
        { role: "tool", tool_call_id: "1", content: "42 apples" },
      ],
    });
    expect(after.body.choices[0].message.content).toBe("The tool returned: 42 apples");
    expect(after.body.choices[0].finish_reason).toBe("stop");
  });

  test("json_schema response is schema-valid JSON built from the text", async () => {
    const schema = {
      type: "object",
      properties: {
        category: { type: "string", enum: ["billing", "shipping", "technical"] },
        priority: { type: "integer", minimum: 1, maximum: 5 },
        tags: { type: "array", items: { type: "string" }, minItems: 1 },
        urgent: { type: "boolean" },
      },
      required: ["category", "priority", "tags", "urgent"],
      additionalProperties: false,
    };
    const res = await ask("My shipping is late, priority 4", {
      response_format: { type: "json_schema", json_schema: { name: "ticket", strict: true, schema } },
    });
    const parsed = JSON.parse(res.body.choices[0].message.content);
    expect(parsed.category).toBe("shipping");
    expect(parsed.priority).toBe(4);
    expect(Array.isArray(parsed.tags) && parsed.tags.length >= 1).toBe(true);
    expect(typeof parsed.urgent).toBe("boolean");
    expect(Object.keys(parsed).sort()).toEqual(["category", "priority", "tags", "urgent"]);
  });

  test("reasoning models prefix <think>…</think>", async () => {
    const res = await postJson(`${sim.baseUrl}/chat/completions`, {
      model: "thinker",
      messages: [{ role: "user", content: "hi" }],
    });
    expect(res.body.choices[0].message.content).toMatch(/^<think>\n[\s\S]+\n<\/think>\n\nYou said: hi$/);
  });

  test("/v1/completions applies no template", async () => {
    const res = await postJson(`${sim.baseUrl}/completions`, { model: MODEL, prompt: "Once upon" });
    expect(res.body.object).toBe("text_completion");
    expect(res.body.choices[0].text).toBe("You said: Once upon");
    expect(res.body.usage.prompt_tokens).toBe(2);
  });
});

describe("overflow dialects", () => {
  const big = filler(5000);
  const cases = [
    [
      "0.3.x",
      (n: number) =>
        `<LM Studio error> Trying to keep the first ${n} tokens when context the overflows. However, the model is loaded with context length of only 4096 tokens, which is not enough. Try to load the model with a larger context length, or provide a shorter input. Error Data: n/a, Additional Data: n/a`,
    ],
    [
      "0.4.x",
      (n: number) =>
        `The number of tokens to keep from the initial prompt is greater than the context length (n_keep: ${n}>= n_ctx: 4096). Try to load the model with a larger context length, or provide a shorter input.`,
    ],
    [
      "0.4.21",
      (n: number) =>
        `Input does not fit in context length. The input has ${n} tokens, but the context length only supports 4096 tokens.`,
    ],
    ["mlx", () => "Context size has been exceeded."],
  ] as const;

  test.each(cases)("%s non-streaming → 400 {error}", async (version, message) => {
    const s = await startSimulator({ lmStudioVersion: version, loadTimeScale: 0 });
    try {
      const res = await postJson(`${s.baseUrl}/chat/completions`, {
        model: MODEL,
        messages: [{ role: "user", content: big }],
      });
      expect(res.status).toBe(400);
      const n = Number(/(\d+)/.exec(res.body.error.replace("4096", ""))?.[1] ?? 0);
      expect(res.body).toEqual({ error: message(n) });
      if (version !== "mlx") expect(n).toBeGreaterThan(4096);
    } finally {
      await s.close();
    }
  });

  test("0.4.21 streaming → HTTP 200 text/event-stream with an `event: error` frame", async () => {
    const s = await startSimulator({ lmStudioVersion: "0.4.21", loadTimeScale: 0 });
    try {
      const res = await postSse(`${s.baseUrl}/chat/completions`, {
        model: MODEL,
        stream: true,
        messages: [{ role: "user", content: big }],
      });
      expect(res.status).toBe(200);
      expect(res.contentType).toMatch(/^text\/event-stream/);
      expect(res.frames).toHaveLength(1);
      expect(res.frames[0]!.event).toBe("error");
      const data = JSON.parse(res.frames[0]!.data);
      expect(data.message).toMatch(
        /^Input does not fit in context length\. The input has \d+ tokens, but the context length only supports 4096 tokens\.$/,
      );
      expect(data).toEqual({ error: { message: data.message }, message: data.message });
    } finally {
      await s.close();
    }
  });

  test("an MLX model speaks MLX's dialect whatever the version", async () => {
    const s = await startSimulator({
      loadTimeScale: 0,
      models: [{ key: "mlx-model", type: "llm", maxContextLength: 8192, format: "mlx" }],
    });
    try {
      const res = await postJson(`${s.baseUrl}/chat/completions`, {
        model: "mlx-model",
        messages: [{ role: "user", content: big }],
      });
      expect(res.body).toEqual({ error: "Context size has been exceeded." });
    } finally {
      await s.close();
    }
  });
});

describe("options and v0 streaming", () => {
  test("separateReasoningContent moves reasoning to reasoning_content", async () => {
    const s = await startSimulator({
      loadTimeScale: 0,
      separateReasoningContent: true,
      models: [{ key: "thinker", type: "llm", maxContextLength: 8192, reasoning: true }],
    });
    try {
      const res = await postJson(`${s.baseUrl}/chat/completions`, {
        model: "thinker",
        messages: [{ role: "user", content: "hi" }],
      });
      expect(res.body.choices[0].message.content).toBe("You said: hi");
      expect(typeof res.body.choices[0].message.reasoning_content).toBe("string");
      expect(res.body.choices[0].message.reasoning_content.length).toBeGreaterThan(0);
    } finally {
      await s.close();
    }
  });

  test("/api/v0 streaming omits usage even when asked", async () => {
    const origin = sim.baseUrl.replace(/\/v1$/, "");
    const res = await postSse(`${origin}/api/v0/chat/completions`, {
      model: MODEL,
      stream: true,
      stream_options: { include_usage: true },
      messages: [{ role: "user", content: "hi" }],
    });
    expect(res.frames.at(-1)?.data).toBe("[DONE]");
    for (const frame of res.frames.slice(0, -1)) {
      const data = JSON.parse(frame.data);
      expect(data.usage).toBeUndefined();
      expect(data.stats).toBeUndefined();
    }
  });
});
