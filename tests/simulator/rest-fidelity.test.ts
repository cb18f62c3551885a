import { LMStudioClient } from "@lmstudio/sdk";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { type RunningSimulator, type SimulatedModelSpec, startSimulator } from "../../src/testing/index.js";
import { connectSdkSocket, getJson, type Json, postJson, postSse } from "./helpers.js";

/** Issue 17 items 4, 6, 7 and 9 against the shapes in reference §10 and the docs' examples. */

const QWEN = "qwen2.5-7b-instruct";
const EMBED = "text-embedding-nomic-embed-text-v1.5";
const MODELS: SimulatedModelSpec[] = [
  {
    key: QWEN,
    type: "llm",
    maxContextLength: 32768,
    trainedForToolUse: true,
    paramsString: "7B",
    sizeBytes: 4_683_073_952,
  },
  { key: "moe-model", type: "llm", maxContextLength: 32768, experts: 8 },
  { key: "mlx-model", type: "llm", maxContextLength: 32768, format: "mlx" },
  { key: "r1", type: "llm", maxContextLength: 32768, reasoning: true },
  { key: "gpt-oss", type: "llm", maxContextLength: 32768, reasoning: true, reasoningField: "reasoning" },
  { key: EMBED, type: "embedding", maxContextLength: 2048 },
];

let sim: RunningSimulator;
let origin: string;
beforeAll(async () => {
  sim = await startSimulator({
    loadTimeScale: 0,
    jit: false,
    models: MODELS,
    preload: [{ key: "mlx-model" }],
  });
  origin = sim.baseUrl.replace(/\/v1$/, "");
});
afterAll(async () => {
  await sim.close();
});

const v1Model = async (key: string): Promise<Json> =>
  (await getJson(`${origin}/api/v1/models`)).body.models.find((m: Json) => m.key === key);

describe("item 4: /api/v0/models lists loaded and downloaded models whatever the JIT setting", () => {
  test("JIT off: every downloaded model, with its state", async () => {
    const v0 = await getJson(`${origin}/api/v0/models`);
    expect(v0.body.data.map((m: Json) => [m.id, m.state])).toEqual([
      [QWEN, "not-loaded"],
      ["moe-model", "not-loaded"],
      ["mlx-model", "loaded"],
      ["r1", "not-loaded"],
      ["gpt-oss", "not-loaded"],
      [EMBED, "not-loaded"],
    ]);
    // /v1/models still lists only loaded identifiers when JIT is off (docs openai-compat/models.md).
    expect((await getJson(`${sim.baseUrl}/models`)).body.data.map((m: Json) => m.id)).toEqual(["mlx-model"]);
  });
});

describe("item 6: load config fields", () => {
  test("REST load honours the fields it sets, echoes them, and /api/v1/models reports them with parallel", async () => {
    const load = await postJson(`${origin}/api/v1/models/load`, {
      model: "moe-model",
      context_length: 16384,
      eval_batch_size: 1024,
      flash_attention: true,
      num_experts: 4,
      offload_kv_cache_to_gpu: false,
      echo_load_config: true,
    });
    expect(load.status).toBe(200);
    expect(load.body.load_config).toEqual({
      context_length: 16384,
      eval_batch_size: 1024,
      flash_attention: true,
      num_experts: 4,
      offload_kv_cache_to_gpu: false,
    });
    expect((await v1Model("moe-model")).loaded_instances).toEqual([
      {
        id: "moe-model",
        config: {
          context_length: 16384,
          eval_batch_size: 1024,
          parallel: 4,
          flash_attention: true,
          num_experts: 4,
          offload_kv_cache_to_gpu: false,
        },
      },
    ]);
  });

  test("MLX instances report only parallel; embedding instances only context_length", async () => {
    expect((await v1Model("mlx-model")).loaded_instances[0].config).toEqual({
      context_length: 4096,
      parallel: 4,
    });
    const load = await postJson(`${origin}/api/v1/models/load`, { model: EMBED, echo_load_config: true });
    expect(load.body.load_config).toEqual({ context_length: 2048 });
    expect((await v1Model(EMBED)).loaded_instances[0].config).toEqual({ context_length: 2048 });
  });

  test("REST load rejects parallel, which only lms and the SDK set (#2024)", async () => {
    const res = await postJson(`${origin}/api/v1/models/load`, { model: QWEN, parallel: 2 });
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({
      type: "invalid_request",
      code: "unrecognized_keys",
      param: "parallel",
    });
    expect((await v1Model(QWEN)).loaded_instances).toEqual([]);
  });

  test("a wrongly typed field is an /api/v1 invalid_request naming it", async () => {
    const bad = await postJson(`${origin}/api/v1/models/load`, { model: QWEN, flash_attention: "yes" });
    expect(bad.status).toBe(400);
    expect(bad.body).toEqual({
      error: {
        type: "invalid_request",
        message: '"flash_attention" must be a boolean',
        code: "invalid_type",
        param: "flash_attention",
      },
    });
  });

  test("SDK load config reaches the instance; getLoadConfig reads every field back", async () => {
    const client = new LMStudioClient({ baseUrl: sim.wsUrl, logger: silentLogger() });
    try {
      const model = await client.llm.load(QWEN, {
        identifier: "sdk-qwen",
        config: { contextLength: 8192, evalBatchSize: 256, flashAttention: true, maxParallelPredictions: 2 },
        verbose: false,
      });
      expect(await model.getLoadConfig()).toMatchObject({
        contextLength: 8192,
        evalBatchSize: 256,
        flashAttention: true,
        maxParallelPredictions: 2,
        offloadKVCacheToGpu: true,
      });
      const instance = (await v1Model(QWEN)).loaded_instances.find((i: Json) => i.id === "sdk-qwen");
      expect(instance.config).toEqual({
        context_length: 8192,
        eval_batch_size: 256,
        parallel: 2,
        flash_attention: true,
        offload_kv_cache_to_gpu: true,
      });
      await model.unload();
    } finally {
      await client[Symbol.asyncDispose]();
    }
  });

  test("raw getLoadConfig KV keys are the SDK's llm.load keys", async () => {
    const c = await connectSdkSocket(sim.wsUrl, "llm");
    c.send({
      type: "rpcCall",
      endpoint: "getLoadConfig",
      callId: 0,
      parameter: { specifier: { type: "query", query: { identifier: "moe-model" } } },
    });
    expect((await c.next((f) => f.callId === 0)).result.fields).toEqual([
      { key: "llm.load.contextLength", value: 16384 },
      { key: "llm.load.llama.evalBatchSize", value: 1024 },
      { key: "llm.load.llama.flashAttention", value: true },
      { key: "llm.load.offloadKVCacheToGpu", value: false },
      { key: "llm.load.numExperts", value: 4 },
      { key: "llm.load.numParallelSessions", value: 4 },
      { key: "llm.load.useUnifiedKvCache", value: true },
    ]);
    c.socket.close();
  });

  test("capabilities.reasoning appears for reasoning models only", async () => {
    expect((await v1Model("r1")).capabilities).toEqual({
      vision: false,
      trained_for_tool_use: false,
      reasoning: { allowed_options: ["on"], default: "on" },
    });
    expect((await v1Model(QWEN)).capabilities).toEqual({ vision: false, trained_for_tool_use: true });
    expect((await v1Model(EMBED)).capabilities).toBeUndefined();
  });
});

describe("item 9: paramsString is the publisher's label", () => {
  test("REST params_string and SDK paramsString: the label, or null / absent", async () => {
    expect((await v1Model(QWEN)).params_string).toBe("7B");
    expect((await v1Model(EMBED)).params_string).toBeNull();
    const c = await connectSdkSocket(sim.wsUrl, "system");
    c.send({ type: "rpcCall", endpoint: "listDownloadedModels", callId: 0 });
    const infos: Json[] = (await c.next((f) => f.callId === 0)).result;
    expect(infos.find((m) => m.modelKey === QWEN).paramsString).toBe("7B");
    expect(infos.find((m) => m.modelKey === EMBED)).not.toHaveProperty("paramsString");
    c.socket.close();
  });
});

describe("item 7: reasoning fields on /v1/chat/completions", () => {
  let jitSim: RunningSimulator;
  beforeAll(async () => {
    jitSim = await startSimulator({ loadTimeScale: 0, models: MODELS, separateReasoningContent: true });
  });
  afterAll(async () => {
    await jitSim.close();
  });
  const ask = (model: string, stream: boolean) => ({
    model,
    messages: [{ role: "user", content: "hello" }],
    stream,
  });

  test("gpt-oss style: message.reasoning and delta.reasoning (0.3.23+), no reasoning_content", async () => {
    const res = await postJson(`${jitSim.baseUrl}/chat/completions`, ask("gpt-oss", false));
    const message = res.body.choices[0].message;
    expect(message.reasoning).toMatch(/^The user wrote \d+ tokens\./);
    expect(message).not.toHaveProperty("reasoning_content");
    expect(message.content).toBe("You said: hello");
    const sse = await postSse(`${jitSim.baseUrl}/chat/completions`, ask("gpt-oss", true));
    const deltas = sse.frames
      .filter((f) => f.data !== "[DONE]")
      .map((f) => JSON.parse(f.data).choices[0]?.delta ?? {});
    expect(deltas.map((d) => d.reasoning ?? "").join("")).toBe(message.reasoning);
    expect(deltas.some((d) => "reasoning_content" in d)).toBe(false);
  });

  test("DeepSeek-R1 style with the Developer setting: reasoning_content", async () => {
    const res = await postJson(`${jitSim.baseUrl}/chat/completions`, ask("r1", false));
    const message = res.body.choices[0].message;
    expect(message.reasoning_content).toMatch(/^The user wrote/);
    expect(message).not.toHaveProperty("reasoning");
    const sse = await postSse(`${jitSim.baseUrl}/chat/completions`, ask("r1", true));
    const deltas = sse.frames
      .filter((f) => f.data !== "[DONE]")
      .map((f) => JSON.parse(f.data).choices[0]?.delta ?? {});
    expect(deltas.map((d) => d.reasoning_content ?? "").join("")).toBe(message.reasoning_content);
  });
});

function silentLogger() {
  const noop = () => {};
  return { info: noop, warn: noop, error: noop, debug: noop };
}
