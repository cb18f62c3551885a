import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { type RunningSimulator, startSimulator } from "../../src/testing/index.js";
import { getJson, postJson } from "./helpers.js";

let sim: RunningSimulator;
let origin: string;

beforeAll(async () => {
  sim = await startSimulator({ loadTimeScale: 0 });
  origin = sim.baseUrl.replace(/\/v1$/, "");
});
afterAll(async () => {
  await sim.close();
});

const say = (model: string) =>
  postJson(`${sim.baseUrl}/chat/completions`, { model, messages: [{ role: "user", content: "hi" }] });

describe("REST v0 / v1 and JIT", () => {
  test("GET /lmstudio-greeting", async () => {
    const res = await getJson(`${origin}/lmstudio-greeting`);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ lmstudio: true });
  });

  test("/api/v0/models before any load: types, state, no loaded_context_length", async () => {
    const res = await getJson(`${origin}/api/v0/models`);
    expect(res.body.object).toBe("list");
    const byId = Object.fromEntries(res.body.data.map((m: { id: string }) => [m.id, m]));
    expect(byId["qwen2.5-7b-instruct"]).toEqual({
      id: "qwen2.5-7b-instruct",
      object: "model",
      type: "llm",
      publisher: "lmstudio-community",
      arch: "qwen2",
      compatibility_type: "gguf",
      quantization: "Q4_K_M",
      state: "not-loaded",
      max_context_length: 32768,
      capabilities: ["tool_use"],
    });
    expect(byId["qwen2-vl-2b-instruct"].type).toBe("vlm");
    expect(byId["text-embedding-nomic-embed-text-v1.5"].type).toBe("embeddings");
  });

  test("a /v1 request JIT-loads at 4096, visible in v0 and v1 but not /v1/models", async () => {
    expect((await say("qwen2.5-7b-instruct")).status).toBe(200);
    const v0 = await getJson(`${origin}/api/v0/models/qwen2.5-7b-instruct`);
    expect(v0.body).toMatchObject({
      state: "loaded",
      max_context_length: 32768,
      loaded_context_length: 4096,
    });
    const v1 = await getJson(`${origin}/api/v1/models`);
    const qwen = v1.body.models.find((m: { key: string }) => m.key === "qwen2.5-7b-instruct");
    // JIT loads get LM Studio 0.4's 4 parallel slots (reference §9.1).
    expect(qwen.loaded_instances).toEqual([
      { id: "qwen2.5-7b-instruct", config: { context_length: 4096, parallel: 4 } },
    ]);
    expect(qwen.capabilities).toEqual({ vision: false, trained_for_tool_use: true });
    const vl = v1.body.models.find((m: { key: string }) => m.key === "qwen2-vl-2b-instruct");
    expect(vl.capabilities.vision).toBe(true);
    const models = await getJson(`${sim.baseUrl}/models`);
    expect(JSON.stringify(models.body)).not.toContain("4096");
  });

  test("auto-evict keeps one JIT model", async () => {
    await say("qwen2-vl-2b-instruct");
    expect(
      sim
        .loaded()
        .filter((i) => i.jit)
        .map((i) => i.identifier),
    ).toEqual(["qwen2-vl-2b-instruct"]);
  });

  test("/api/v0/chat/completions carries stats, model_info, runtime", async () => {
    const res = await postJson(`${origin}/api/v0/chat/completions`, {
      model: "qwen2-vl-2b-instruct",
      messages: [{ role: "user", content: "hi" }],
    });
    expect(res.status).toBe(200);
    expect(res.body.stats).toMatchObject({ stop_reason: "eosFound" });
    expect(typeof res.body.stats.tokens_per_second).toBe("number");
    expect(typeof res.body.stats.time_to_first_token).toBe("number");
    expect(typeof res.body.stats.generation_time).toBe("number");
    expect(res.body.model_info).toEqual({
      arch: "qwen2vl",
      quant: "Q4_K_M",
      format: "gguf",
      context_length: 4096,
    });
    expect(res.body.runtime).toMatchObject({ supported_formats: ["gguf"] });
    expect(typeof res.body.runtime.name).toBe("string");
  });

  test("POST /api/v1/models/load and /unload (the JIT copy was auto-evicted, so no suffix)", async () => {
    const load = await postJson(`${origin}/api/v1/models/load`, {
      model: "qwen2.5-7b-instruct",
      context_length: 16384,
      echo_load_config: true,
    });
    expect(load.status).toBe(200);
    expect(load.body).toMatchObject({
      type: "llm",
      instance_id: "qwen2.5-7b-instruct",
      status: "loaded",
      load_config: { context_length: 16384 },
    });
    expect(typeof load.body.load_time_seconds).toBe("number");
    const noEcho = await postJson(`${origin}/api/v1/models/load`, {
      model: "text-embedding-nomic-embed-text-v1.5",
    });
    expect(noEcho.body.load_config).toBeUndefined();
    expect(noEcho.body.type).toBe("embedding");
    const v0 = await getJson(`${origin}/api/v0/models/qwen2.5-7b-instruct`);
    expect(v0.body.loaded_context_length).toBe(16384);
    const unload = await postJson(`${origin}/api/v1/models/unload`, { instance_id: "qwen2.5-7b-instruct" });
    expect(unload.body).toEqual({ instance_id: "qwen2.5-7b-instruct" });
    const again = await postJson(`${origin}/api/v1/models/unload`, { instance_id: "qwen2.5-7b-instruct" });
    expect(again.status).toBe(404);
    expect(typeof again.body.error).toBe("string");
  });

  test("REST load above loadLimit → guardrail text", async () => {
    const res = await postJson(`${origin}/api/v1/models/load`, {
      model: "qwen2.5-7b-instruct",
      context_length: 65536,
    });
    expect(res.status).toBe(400);
    expect(res.body.error).toMatch(
      /^Model loading was stopped due to insufficient system resources\. Under the current settings, this model requires approximately \d+\.\d\d GB of memory, and continuing to load it would likely overload your system and cause it to freeze\. If you think this is incorrect, you can adjust the model loading guardrails in settings\.$/,
    );
  });

  test("requests are logged", () => {
    expect(sim.requests).toContainEqual({
      method: "POST",
      path: "/api/v1/models/unload",
      body: { instance_id: "qwen2.5-7b-instruct" },
    });
  });
});

describe("auth", () => {
  test("with apiToken, HTTP needs the bearer token", async () => {
    const token = "sk-lm-abcdEFGH:abcdefghijABCDEFGHIJ";
    const s = await startSimulator({ apiToken: token, loadTimeScale: 0 });
    try {
      const none = await getJson(`${s.baseUrl}/models`);
      expect(none.status).toBe(401);
      expect(none.body.error).toBeDefined();
      const wrong = await getJson(`${s.baseUrl}/models`, { authorization: "Bearer nope" });
      expect(wrong.status).toBe(401);
      const right = await getJson(`${s.baseUrl}/models`, { authorization: `Bearer ${token}` });
      expect(right.status).toBe(200);
    } finally {
      await s.close();
    }
  });
});
