import { LMStudioClient } from "@lmstudio/sdk";
import { afterEach, describe, expect, test } from "vitest";
import {
  countSimulatorTokens,
  type RunningSimulator,
  type SimulatorOptions,
  startSimulator,
} from "../../src/testing/index.js";
import { InstanceKvPool, KvCacheExhaustedError, type SlotLease } from "../../src/testing/kv-pool.js";
import { getJson, type JsonResponse, postJson, postSse } from "./helpers.js";

process.env.LMS_NO_FANCY_ERRORS = "1";

const LLM = "qwen2.5-7b-instruct";
const MLX = "mlx-model";
const EXCEEDED = "Context size has been exceeded.";

let sim: RunningSimulator | undefined;
let client: LMStudioClient | undefined;

afterEach(async () => {
  await client?.[Symbol.asyncDispose]();
  await sim?.close();
  client = undefined;
  sim = undefined;
});

async function start(options: SimulatorOptions = {}): Promise<RunningSimulator> {
  sim = await startSimulator({
    loadTimeScale: 0,
    models: [
      { key: LLM, type: "llm", maxContextLength: 32768 },
      { key: MLX, type: "llm", maxContextLength: 32768, format: "mlx" },
      { key: "embedder", type: "embedding", maxContextLength: 2048 },
    ],
    ...options,
  });
  return sim;
}

function sdk(s: RunningSimulator): LMStudioClient {
  const noop = () => {};
  client = new LMStudioClient({
    baseUrl: s.wsUrl,
    logger: { info: noop, warn: noop, error: noop, debug: noop },
  });
  return client;
}

/** A user message whose chat-templated prompt is about `tokens` simulator tokens. */
function messagesOf(tokens: number, tag = "x") {
  const content = `${tag} ${"abcd ".repeat(Math.max(0, tokens - 12))}`;
  return [{ role: "user", content }];
}

function chat(s: RunningSimulator, model: string, promptTokens: number, maxTokens: number, tag?: string) {
  return postJson(`${s.baseUrl}/chat/completions`, {
    model,
    messages: messagesOf(promptTokens, tag),
    max_tokens: maxTokens,
  });
}

describe("parallel slots and the KV cache: defaults and read-back on every load path", () => {
  test("JIT and REST loads get 4 slots on a unified cache; /api/v1/models lists parallel", async () => {
    const s = await start();
    await chat(s, LLM, 50, 5);
    await postJson(`http://127.0.0.1:${s.port}/api/v1/models/load`, { model: MLX, context_length: 2048 });
    await postJson(`http://127.0.0.1:${s.port}/api/v1/models/load`, { model: "embedder" });
    const models = (await getJson(`http://127.0.0.1:${s.port}/api/v1/models`)).body.models;
    const byKey = (key: string) => models.find((m: { key: string }) => m.key === key);
    expect(byKey(LLM).loaded_instances).toEqual([
      { id: LLM, config: expect.objectContaining({ context_length: 4096, parallel: 4 }) },
    ]);
    expect(byKey(MLX).loaded_instances[0].config.parallel).toBe(4);
    // "Absent for embedding models."
    expect(byKey("embedder").loaded_instances[0].config).toEqual({ context_length: 2048 });
    expect(s.kvCache(LLM)).toMatchObject({ parallel: 4, unifiedKvCache: true });
    // MLX batches its parallel sessions but has no unified-cache key.
    expect(s.kvCache(MLX)).toMatchObject({ parallel: 4, unifiedKvCache: undefined });
  });

  test("SDK load config: maxParallelPredictions / useUnifiedKvCache are honoured and read back", async () => {
    const s = await start();
    const c = sdk(s);
    const model = await c.llm.load(LLM, {
      identifier: "two-slots",
      config: { contextLength: 8192, maxParallelPredictions: 2, useUnifiedKvCache: false },
    });
    const config = await model.getLoadConfig();
    expect(config.maxParallelPredictions).toBe(2);
    expect(config.useUnifiedKvCache).toBe(false);
    expect(s.kvCache("two-slots")).toMatchObject({ parallel: 2, unifiedKvCache: false });
    const defaults = await c.llm.load(LLM, { identifier: "defaults", config: { contextLength: 4096 } });
    const read = await defaults.getLoadConfig();
    expect([read.maxParallelPredictions, read.useUnifiedKvCache]).toEqual([4, true]);
    const models = (await getJson(`http://127.0.0.1:${s.port}/api/v1/models`)).body.models;
    const instances = models.find((m: { key: string }) => m.key === LLM).loaded_instances;
    expect(instances.map((i: { config: { parallel: number } }) => i.config.parallel)).toEqual([2, 4]);
  });

  test("LM Studio 0.3 defaults were one slot and no unified cache", async () => {
    const s = await start({ lmStudioVersion: "0.3.x" });
    await chat(s, LLM, 50, 5);
    expect(s.kvCache(LLM)).toMatchObject({ parallel: 1, unifiedKvCache: false });
  });

  test("preload can set the slots and cache mode (as `lms load --parallel` does)", async () => {
    const s = await start({
      preload: [{ key: LLM, contextLength: 4096, parallel: 8, unifiedKvCache: false }],
    });
    expect(s.kvCache(LLM)).toMatchObject({ parallel: 8, unifiedKvCache: false });
  });
});

describe("the shared pool", () => {
  const timing = { decodeMsPerToken: 4, prefillMsPer1kTokens: 20 };

  test("three concurrent predictions of ~40% of n_ctx on a unified cache all fail with HTTP 500; the model stays loaded", async () => {
    const s = await start({ ...timing, preload: [{ key: LLM, contextLength: 4096 }] });
    const results = await Promise.all([0, 1, 2].map((i) => chat(s, LLM, 1640, 200, `r${i}`)));
    for (const r of results) {
      expect(r.status).toBe(500);
      expect(r.body).toEqual({ error: { code: 500, message: EXCEEDED, type: "server_error" } });
    }
    expect(s.loaded().map((i) => i.identifier)).toEqual([LLM]);
    expect(s.kvCache(LLM)?.exhaustedPredictions).toBe(3);
    // The pool is free again: the same request alone succeeds.
    expect((await chat(s, LLM, 1640, 5)).status).toBe(200);
  });

  test("the same predictions succeed with a per-slot cache (each slot has the full context)", async () => {
    const s = await start({ ...timing, preload: [{ key: LLM, contextLength: 4096, unifiedKvCache: false }] });
    const results = await Promise.all([0, 1, 2].map((i) => chat(s, LLM, 1640, 200, `r${i}`)));
    expect(results.map((r) => r.status)).toEqual([200, 200, 200]);
  });

  test("predictions beyond the slots queue instead of sharing the pool", async () => {
    const s = await start({ ...timing, preload: [{ key: LLM, contextLength: 4096, parallel: 1 }] });
    const results = await Promise.all([0, 1, 2].map((i) => chat(s, LLM, 1640, 30, `r${i}`)));
    expect(results.map((r) => r.status)).toEqual([200, 200, 200]);
    expect(s.kvCache(LLM)?.exhaustedPredictions).toBe(0);
  });

  test("after its first token a prediction fails by an SSE error frame, without [DONE]", async () => {
    const s = await start({ ...timing, preload: [{ key: LLM, contextLength: 4096 }] });
    const streaming = postSse(`${s.baseUrl}/chat/completions`, {
      model: LLM,
      messages: messagesOf(1640, "streamer"),
      max_tokens: 400,
      stream: true,
    });
    // Let the stream get going, then two more requests exhaust the pool.
    await new Promise((resolve) => setTimeout(resolve, 250));
    const others: JsonResponse[] = await Promise.all([
      chat(s, LLM, 1640, 60, "a"),
      chat(s, LLM, 1640, 60, "b"),
    ]);
    const stream = await streaming;
    expect(stream.status).toBe(200);
    const last = stream.frames.at(-1)!;
    expect(JSON.parse(last.data)).toEqual({ error: { code: 500, message: EXCEEDED, type: "server_error" } });
    expect(stream.frames.some((f) => f.data === "[DONE]")).toBe(false);
    expect(stream.frames.length).toBeGreaterThan(1);
    expect(others.map((r) => r.status)).toEqual([500, 500]);
  });

  test("an SDK prediction fails with the same text", async () => {
    const s = await start({ ...timing, preload: [{ key: LLM, contextLength: 4096 }] });
    const model = await sdk(s).llm.model(LLM);
    const outcomes = await Promise.allSettled(
      [0, 1, 2].map((i) => model.respond(messagesOf(1640, `sdk${i}`)[0]!.content, { maxTokens: 200 })),
    );
    for (const o of outcomes) {
      expect(o.status).toBe("rejected");
      expect(String((o as PromiseRejectedResult).reason)).toContain(EXCEEDED);
    }
  });
});

describe("prefix reuse", () => {
  test("a slot's next prompt processes only what follows the common prefix", async () => {
    const s = await start({ preload: [{ key: LLM, contextLength: 8192 }] });
    const haystack = "abcd ".repeat(2000);
    const ask = (question: string) =>
      postJson(`${s.baseUrl}/chat/completions`, {
        model: LLM,
        messages: [{ role: "user", content: `${haystack}${question}` }],
        max_tokens: 5,
      });
    const first = await ask("first question?");
    const before = s.kvCache(LLM)!;
    expect(before.processedPromptTokens).toBe(first.body.usage.prompt_tokens);
    const second = await ask("second question?");
    const after = s.kvCache(LLM)!;
    const processed = after.processedPromptTokens - before.processedPromptTokens;
    expect(after.promptTokens - before.promptTokens).toBe(second.body.usage.prompt_tokens);
    // Only the differing tail (question + template end) is processed again.
    expect(processed).toBeLessThan(30);
    expect(processed * 50).toBeLessThan(second.body.usage.prompt_tokens);
    expect(processed).toBeGreaterThan(0);
    expect(countSimulatorTokens(haystack)).toBeGreaterThan(1900);
  });
});

describe("InstanceKvPool", () => {
  const tokens = (n: number, seed = 0) => Array.from({ length: n }, (_, i) => i + seed * 100_000);

  test("queues beyond the slots first-in first-out and honours abort", async () => {
    const pool = new InstanceKvPool(1000, { parallel: 1, unified: true });
    const first = await pool.start(tokens(10, 1));
    const order: string[] = [];
    const noted = (name: string) => (lease: SlotLease) => {
      order.push(name);
      return lease;
    };
    const second = pool.start(tokens(10, 2)).then(noted("second"));
    const aborted = new AbortController();
    const third = pool.start(tokens(10, 3), aborted.signal);
    const fourth = pool.start(tokens(10, 4)).then(noted("fourth"));
    expect(pool.queuedCount).toBe(3);
    aborted.abort(new Error("gave up"));
    await expect(third).rejects.toThrow("gave up");
    pool.finish(first);
    pool.finish(await second);
    pool.finish(await fourth);
    expect(order).toEqual(["second", "fourth"]);
  });

  test("growing past n_ctx with two running fails both; one alone is never failed by the pool", async () => {
    const pool = new InstanceKvPool(100, { parallel: 4, unified: true });
    const alone = await pool.start(tokens(90, 1));
    pool.grow(alone, 30);
    expect(alone.isFailed()).toBe(false);
    pool.finish(alone);
    const a = await pool.start(tokens(40, 2));
    const b = await pool.start(tokens(40, 3));
    expect(() => pool.grow(b, 30)).toThrow(KvCacheExhaustedError);
    expect(a.isFailed()).toBe(true);
    expect(pool.stats.exhaustedPredictions).toBe(2);
  });

  test("idle slots' caches are dropped before the running predictions fail", async () => {
    const pool = new InstanceKvPool(100, { parallel: 2, unified: true });
    pool.finish(await pool.start(tokens(80, 1)));
    const next = await pool.start(tokens(60, 2));
    expect(next.isFailed()).toBe(false);
    pool.finish(next);
    // The first prompt's cache was dropped to make room, so it is processed in full again.
    const again = await pool.start(tokens(80, 1));
    expect(again.cachedPromptTokens).toBe(0);
  });
});
