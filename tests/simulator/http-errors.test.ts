import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { type RunningSimulator, startSimulator } from "../../src/testing/index.js";
import { getJson, postJson } from "./helpers.js";

const PNG =
  "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==";

let sim: RunningSimulator;
let url: string;

beforeAll(async () => {
  sim = await startSimulator({ loadTimeScale: 0 });
  url = sim.baseUrl;
});
afterAll(async () => {
  await sim.close();
});

const chat = (body: Record<string, unknown>) =>
  postJson(`${url}/chat/completions`, {
    model: "qwen2.5-7b-instruct",
    messages: [{ role: "user", content: "hi" }],
    ...body,
  });

describe("LM Studio's exact error strings and shapes", () => {
  test("response_format json_object is rejected", async () => {
    const res = await chat({ response_format: { type: "json_object" } });
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ error: "'response_format.type' must be 'json_schema' or 'text'" });
  });

  test("response_format text is accepted", async () => {
    const res = await chat({ response_format: { type: "text" } });
    expect(res.status).toBe(200);
  });

  test("object tool_choice is rejected", async () => {
    const res = await chat({
      tools: [{ type: "function", function: { name: "x", parameters: { type: "object", properties: {} } } }],
      tool_choice: { type: "function", function: { name: "x" } },
    });
    expect(res.status).toBe(400);
    expect(res.body).toEqual({
      error: "Invalid tool_choice type: 'object'. Supported string values: none, auto, required",
    });
  });

  test("unknown model → model_not_found object shape listing models", async () => {
    const res = await chat({ model: "o4-mini" });
    expect(res.status).toBe(400);
    expect(res.body).toEqual({
      error: {
        message:
          'Invalid model identifier "o4-mini". Please specify a valid downloaded model (e.g., qwen2.5-7b-instruct, qwen2-vl-2b-instruct, text-embedding-nomic-embed-text-v1.5).',
        type: "invalid_request_error",
        param: "model",
        code: "model_not_found",
      },
    });
  });

  test("image as an http URL is rejected", async () => {
    const res = await chat({
      model: "qwen2-vl-2b-instruct",
      messages: [
        {
          role: "user",
          content: [
            { type: "text", text: "what is this" },
            { type: "image_url", image_url: { url: "https://example.com/cat.png" } },
          ],
        },
      ],
    });
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ error: "'url' field must be a base64 encoded image" });
  });

  test("a webp data URL is rejected with the same error", async () => {
    const res = await chat({
      model: "qwen2-vl-2b-instruct",
      messages: [
        {
          role: "user",
          content: [{ type: "image_url", image_url: { url: "data:image/webp;base64,UklGRg==" } }],
        },
      ],
    });
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ error: "'url' field must be a base64 encoded image" });
  });

  test("an image to a non-vision model is rejected", async () => {
    const res = await chat({
      messages: [{ role: "user", content: [{ type: "image_url", image_url: { url: PNG } }] }],
    });
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ error: "Model does not support images. Please use a model that does." });
  });

  test("an image to a VLM works and counts 256 tokens", async () => {
    const withImage = await chat({
      model: "qwen2-vl-2b-instruct",
      messages: [
        {
          role: "user",
          content: [
            { type: "text", text: "describe" },
            { type: "image_url", image_url: { url: PNG } },
          ],
        },
      ],
    });
    const without = await chat({
      model: "qwen2-vl-2b-instruct",
      messages: [{ role: "user", content: "describe" }],
    });
    expect(withImage.status).toBe(200);
    expect(withImage.body.choices[0].message.content).toBe("You said: describe");
    expect(withImage.body.usage.prompt_tokens - without.body.usage.prompt_tokens).toBe(256);
  });

  test("embeddings: token arrays are rejected", async () => {
    for (const input of [[1, 2, 3], [[1, 2]]]) {
      const res = await postJson(`${url}/embeddings`, {
        model: "text-embedding-nomic-embed-text-v1.5",
        input,
      });
      expect(res.status).toBe(400);
      expect(res.body).toEqual({ error: "'input' field must be a string or an array of strings" });
    }
  });

  test("embeddings with a non-embedding model → 'Model is not embedding.'", async () => {
    const res = await postJson(`${url}/embeddings`, { model: "qwen2.5-7b-instruct", input: "x" });
    expect(res.status).toBe(400);
    expect(res.body).toEqual({
      error: {
        message: 'Failed to load model "qwen2.5-7b-instruct". Error: Model is not embedding.',
        type: "invalid_request_error",
        param: "model",
        code: "model_not_found",
      },
    });
  });

  test("unknown routes get a JSON error", async () => {
    const res = await getJson(`${url}/nope`);
    expect(res.status).toBe(404);
    expect(res.body).toEqual({ error: "Unexpected endpoint or method. (GET /v1/nope)" });
  });
});

describe("bad input never crashes or hangs", () => {
  test("malformed JSON → 400 validation shape", async () => {
    const res = await postJson(`${url}/chat/completions`, "{ not json");
    expect(res.status).toBe(400);
    expect(typeof res.body.error).toBe("string");
    expect(res.body.error).toMatch(/JSON/);
  });

  test.each([
    [
      "messages not an array",
      { model: "qwen2.5-7b-instruct", messages: "hi" },
      "'messages' field must be an array",
    ],
    ["model not a string", { model: 42, messages: [] }, "'model' field must be a string"],
    [
      "bad role",
      { model: "qwen2.5-7b-instruct", messages: [{ role: "wizard", content: "x" }] },
      "Invalid message role: 'wizard'",
    ],
    [
      "max_tokens not an integer",
      { model: "qwen2.5-7b-instruct", messages: [], max_tokens: "ten" },
      "'max_tokens' field must be an integer",
    ],
    ["body not an object", [1, 2], "Request body must be a JSON object"],
  ])("%s → 400 {error}", async (_name, body, message) => {
    const res = await postJson(`${url}/chat/completions`, body);
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ error: message });
  });

  test("embeddings with a number input, completions without prompt", async () => {
    const e = await postJson(`${url}/embeddings`, {
      model: "text-embedding-nomic-embed-text-v1.5",
      input: 5,
    });
    expect(e.body).toEqual({ error: "'input' field must be a string or an array of strings" });
    const c = await postJson(`${url}/completions`, { model: "qwen2.5-7b-instruct" });
    expect(c.status).toBe(400);
    expect(c.body).toEqual({ error: "'prompt' field must be a string" });
  });

  test("the server still answers after all that", async () => {
    const res = await getJson(`${url}/models`);
    expect(res.status).toBe(200);
  });
});

describe("no models loaded (JIT off)", () => {
  test("exact string, status 400", async () => {
    const off = await startSimulator({ jit: false, loadTimeScale: 0 });
    try {
      const res = await postJson(`${off.baseUrl}/chat/completions`, {
        model: "qwen2.5-7b-instruct",
        messages: [{ role: "user", content: "hi" }],
      });
      expect(res.status).toBe(400);
      expect(res.body).toEqual({
        error: "No models loaded. Please load a model in the developer page or use the 'lms load' command.",
      });
      const models = await getJson(`${off.baseUrl}/models`);
      expect(models.body).toEqual({ data: [], object: "list" });
    } finally {
      await off.close();
    }
  });

  test("with another model loaded, an unloaded key is model_not_found (no single-model quirk)", async () => {
    const off = await startSimulator({
      jit: false,
      loadTimeScale: 0,
      preload: [{ key: "qwen2-vl-2b-instruct" }],
    });
    try {
      const res = await postJson(`${off.baseUrl}/chat/completions`, {
        model: "qwen2.5-7b-instruct",
        messages: [{ role: "user", content: "hi" }],
      });
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe("model_not_found");
      expect(res.body.error.message).toBe(
        'Invalid model identifier "qwen2.5-7b-instruct". Please specify a valid downloaded model (e.g., qwen2-vl-2b-instruct).',
      );
    } finally {
      await off.close();
    }
  });
});
