import { LMStudioClient } from "@lmstudio/sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type RunningSimulator,
  renderTinyChat,
  startSimulator,
  TINY_ANSWER,
  TINY_CHAT_TEMPLATE,
  tinyTokenize,
} from "../../src/testing/index.js";
import { tinyModelDir } from "../fixtures/tiny-llama.js";

process.env.LMS_NO_FANCY_ERRORS = "1";

const LLM = "tiny-llama";
const EMBED = "tiny-embed";
const dir = tinyModelDir();
let sim: RunningSimulator;
let client: LMStudioClient;

beforeAll(async () => {
  sim = await startSimulator({
    backend: "llama.cpp",
    loadTimeScale: 0,
    models: [
      {
        key: LLM,
        type: "llm",
        maxContextLength: 4096,
        gguf: await dir.write("tiny.gguf", { contextLength: 4096 }),
      },
      {
        key: EMBED,
        type: "embedding",
        maxContextLength: 2048,
        embeddingDimensions: 64,
        gguf: await dir.write("tiny-embed.gguf", { contextLength: 2048, meanPooling: true }),
      },
    ],
  });
  const noop = () => undefined;
  client = new LMStudioClient({
    baseUrl: sim.wsUrl,
    logger: { info: noop, warn: noop, error: noop, debug: noop },
  });
});
afterAll(async () => {
  await client?.[Symbol.asyncDispose]();
  await sim?.close();
  dir.remove();
});

describe("SDK API on the llama.cpp backend", () => {
  it("tokenize, countTokens, template and predict use the engine", async () => {
    const model = await client.llm.load(LLM, {
      identifier: "tiny-512",
      config: { contextLength: 512 },
      verbose: false,
    });
    expect(await model.getContextLength()).toBe(512);
    expect(await model.tokenize("hi there")).toEqual(tinyTokenize("hi there"));
    expect(await model.countTokens("héllo")).toBe(6);

    const chat = [{ role: "user" as const, content: "hi" }];
    const formatted = await model.applyPromptTemplate(chat);
    expect(formatted).toBe(renderTinyChat([{ role: "user", content: "hi" }]));
    // The rendering is what the GGUF's own Jinja template gives (rendered by node-llama-cpp's Jinja engine).
    const { Template } = await import("@huggingface/jinja");
    expect(formatted).toBe(
      new Template(TINY_CHAT_TEMPLATE).render({ messages: chat, add_generation_prompt: true }),
    );

    const prediction = model.respond(chat, { maxTokens: 100 });
    const fragments: Array<{ content: string; tokensCount: number }> = [];
    for await (const f of prediction) fragments.push({ content: f.content, tokensCount: f.tokensCount });
    const result = await prediction.result();
    expect(fragments.map((f) => f.content)).toEqual([...TINY_ANSWER]);
    expect(fragments.every((f) => f.tokensCount === 1)).toBe(true);
    expect(result.content).toBe(TINY_ANSWER);
    expect(result.stats).toMatchObject({
      stopReason: "eosFound",
      promptTokensCount: 1 + (await model.countTokens(formatted)),
      predictedTokensCount: 26,
    });

    const cut = await model.respond(chat, { maxTokens: 3 });
    expect(cut.content).toBe("abc");
    expect(cut.stats.stopReason).toBe("maxPredictedTokensReached");
    await model.unload();
    expect(sim.loaded()).toEqual([]);
  });

  it("a prompt over the loaded context is refused with the overflow error", async () => {
    const model = await client.llm.load(LLM, {
      identifier: "tiny-64",
      config: { contextLength: 64 },
      verbose: false,
    });
    await expect(model.respond([{ role: "user", content: "y".repeat(80) }])).rejects.toThrow(/n_ctx: 64/);
    await model.unload();
  });

  it("embedString returns the engine's vector; tokenize on the embedding model is the same tokenizer", async () => {
    const model = await client.embedding.load(EMBED, { config: { contextLength: 256 }, verbose: false });
    const a = await model.embed("hello world");
    const b = await model.embed("hello world");
    const c = await model.embed("something else");
    expect(a.embedding).toHaveLength(64);
    expect(a.embedding).toEqual(b.embedding);
    expect(a.embedding).not.toEqual(c.embedding);
    expect(await model.tokenize("ok")).toEqual(tinyTokenize("ok"));
    await model.unload();
  });
});
