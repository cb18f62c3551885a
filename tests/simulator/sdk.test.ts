import { LMStudioClient } from "@lmstudio/sdk";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import {
  applySimulatorChatTemplate,
  countSimulatorTokens,
  type RunningSimulator,
  simulatorTokenize,
  startSimulator,
} from "../../src/testing/index.js";
import { postJson } from "./helpers.js";

process.env.LMS_NO_FANCY_ERRORS = "1";

const LLM = "qwen2.5-7b-instruct";
const EMBED = "text-embedding-nomic-embed-text-v1.5";

let sim: RunningSimulator;
let client: LMStudioClient;

beforeAll(async () => {
  sim = await startSimulator({
    port: 0,
    loadTimeScale: 0,
    models: [
      { key: LLM, type: "llm", maxContextLength: 32768, loadLimit: 16384, trainedForToolUse: true },
      { key: "fitting-model", type: "llm", maxContextLength: 131072, autoFitTo: 4096 },
      { key: EMBED, type: "embedding", maxContextLength: 2048, embeddingDimensions: 768 },
    ],
  });
  client = new LMStudioClient({ baseUrl: sim.wsUrl, logger: silentLogger() });
});
afterAll(async () => {
  await client[Symbol.asyncDispose]();
  await sim.close();
});

function silentLogger() {
  const noop = () => {};
  return { info: noop, warn: noop, error: noop, debug: noop };
}

describe("the real @lmstudio/sdk against the simulator", () => {
  test("listDownloadedModels returns schema-complete infos", async () => {
    const models = await client.system.listDownloadedModels();
    expect(models.map((m) => m.modelKey)).toEqual([LLM, "fitting-model", EMBED]);
    const llm = models[0]!;
    expect(llm).toMatchObject({
      type: "llm",
      modelKey: LLM,
      format: "gguf",
      maxContextLength: 32768,
      deviceIdentifier: null,
    });
    expect(typeof llm.path).toBe("string");
    const llms = await client.system.listDownloadedModels("llm");
    expect(llms.every((m) => m.type === "llm")).toBe(true);
  });

  test("load at 8192, read back, count tokens, tokenize, template, respond, unload", async () => {
    const model = await client.llm.load(LLM, {
      identifier: "guard-qwen-8k",
      config: { contextLength: 8192 },
      verbose: false,
    });
    expect(model.identifier).toBe("guard-qwen-8k");
    expect(await model.getContextLength()).toBe(8192);
    expect((await model.getModelInfo()).contextLength).toBe(8192);
    expect(sim.loaded()).toContainEqual({
      identifier: "guard-qwen-8k",
      modelKey: LLM,
      contextLength: 8192,
      jit: false,
    });

    expect(await model.countTokens("hello world!")).toBe(countSimulatorTokens("hello world!"));
    expect(await model.tokenize("hi there")).toEqual(simulatorTokenize("hi there"));

    const chat = [{ role: "user" as const, content: "hi" }];
    const formatted = await model.applyPromptTemplate(chat);
    expect(formatted).toBe(applySimulatorChatTemplate([{ role: "user", text: "hi", images: 0 }]));
    const promptTokens = await model.countTokens(formatted);

    const prediction = model.respond(chat, { maxTokens: 50 });
    const fragments: string[] = [];
    for await (const fragment of prediction) fragments.push(fragment.content);
    const result = await prediction.result();
    expect(fragments.join("")).toBe("You said: hi");
    expect(result.content).toBe("You said: hi");
    expect(result.stats.stopReason).toBe("eosFound");
    expect(result.stats.promptTokensCount).toBe(promptTokens);
    expect(result.stats.predictedTokensCount).toBe(countSimulatorTokens("You said: hi"));
    expect(result.modelInfo.contextLength).toBe(8192);

    // The same prompt over /v1 reports the same prompt token count.
    const http = await postJson(`${sim.baseUrl}/chat/completions`, {
      model: "guard-qwen-8k",
      messages: [{ role: "user", content: "hi" }],
    });
    expect(http.body.usage.prompt_tokens).toBe(promptTokens);

    await model.unload();
    expect(sim.loaded().find((i) => i.identifier === "guard-qwen-8k")).toBeUndefined();
  });

  test("maxTokens cuts the answer with maxPredictedTokensReached", async () => {
    const model = await client.llm.load(LLM, {
      identifier: "short",
      config: { contextLength: 4096 },
      verbose: false,
    });
    const result = await model.respond([{ role: "user", content: "a fairly long sentence to echo" }], {
      maxTokens: 3,
    });
    expect(result.stats.predictedTokensCount).toBe(3);
    expect(result.stats.stopReason).toBe("maxPredictedTokensReached");
    await model.unload();
  });

  test("model() (getOrLoad) returns the loaded instance and ignores the new config", async () => {
    const loaded = await client.llm.load(LLM, { config: { contextLength: 8192 }, verbose: false });
    expect(loaded.identifier).toBe(LLM);
    const again = await client.llm.model(LLM, { config: { contextLength: 16384 }, verbose: false });
    expect(again.identifier).toBe(LLM);
    expect(await again.getContextLength()).toBe(8192);

    // A second load of the same key gets the ":2" suffix.
    const second = await client.llm.load(LLM, { config: { contextLength: 2048 }, verbose: false });
    expect(second.identifier).toBe(`${LLM}:2`);
    const listed = await client.llm.listLoaded();
    expect(listed.map((m) => m.identifier).sort()).toEqual([LLM, `${LLM}:2`]);

    // An explicit identifier already in use is an error.
    await expect(client.llm.load(LLM, { identifier: LLM, verbose: false })).rejects.toThrow(/already/);
    await client.llm.unload(`${LLM}:2`);
    await loaded.unload();
  });

  test("unloading an unknown identifier rejects with LM Studio's message", async () => {
    await expect(client.llm.unload("nope")).rejects.toThrow(/Cannot find a model with identifier "nope"/);
  });

  test("loading above loadLimit rejects with the guardrail text", async () => {
    await expect(
      client.llm.load(LLM, { identifier: "too-big", config: { contextLength: 32768 }, verbose: false }),
    ).rejects.toThrow(/Model loading was stopped due to insufficient system resources/);
    expect(sim.loaded().find((i) => i.identifier === "too-big")).toBeUndefined();
  });

  test("loading an unknown path rejects with pathNotFound", async () => {
    await expect(client.llm.load("does-not-exist", { verbose: false })).rejects.toThrow(
      /Cannot find a model with path "does-not-exist"/,
    );
  });

  test("auto-fit loads silently at another context than requested", async () => {
    const model = await client.llm.load("fitting-model", {
      config: { contextLength: 65536 },
      verbose: false,
    });
    expect(await model.getContextLength()).toBe(4096);
    await model.unload();
  });

  test("embedding model: load, getContextLength, embed", async () => {
    const model = await client.embedding.load(EMBED, { config: { contextLength: 1024 }, verbose: false });
    expect(await model.getContextLength()).toBe(1024);
    const { embedding } = await model.embed("hello");
    expect(embedding).toHaveLength(768);
    const again = await model.embed("hello");
    expect(again.embedding).toEqual(embedding);
    await model.unload();
  });

  test("a WebSocket drop mid-load rejects instead of hanging", async () => {
    sim.injectFault({ kind: "ws-drop-mid-load" });
    const dropClient = new LMStudioClient({ baseUrl: sim.wsUrl, logger: silentLogger() });
    try {
      await expect(dropClient.llm.load(LLM, { identifier: "dropped", verbose: false })).rejects.toThrow();
      expect(sim.loaded().find((i) => i.identifier === "dropped")).toBeUndefined();
    } finally {
      await dropClient[Symbol.asyncDispose]();
    }
  });
});
