import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import type { AIMessageChunk } from "@langchain/core/messages";
import { describe, expect, it } from "vitest";
import { ChatLMStudio, LMStudioEmbeddings } from "../../src/index.js";
import { type RunningSimulator, startSimulator } from "../../src/testing/index.js";
import { activeResources, errorName, formatTable, isTypedError, leakedSince } from "./support.js";

/**
 * Load: 1,000 concurrent chat requests and 20,000 embeddings through the library against the
 * simulator with 5 % of requests faulted. Every request must be accounted for (a valid answer or a
 * typed error), no handle may be left open, and the heap after the run (after GC) must stay within
 * 1.5× the heap before it.
 */

const CHAT_MODEL = "qwen2.5-7b-instruct";
const EMBEDDING_MODEL = "load-embedding";
const CHAT_REQUESTS = 1_000;
const EMBEDDING_TEXTS = 20_000;
const FAULT_PROBABILITY = 0.05;
const DIMENSIONS = 64;

/**
 * `global.gc` without restarting vitest's worker with --expose-gc: V8 accepts the flag at run time,
 * and a fresh context created afterwards gets the `gc` global.
 */
function collectGarbage(): () => void {
  const existing = (globalThis as { gc?: () => void }).gc;
  if (typeof existing === "function") return existing;
  setFlagsFromString("--expose-gc");
  return runInNewContext("gc") as () => void;
}

function heapAfterGc(gc: () => void): number {
  // Several passes: weak references and finalizers free more on the second and third.
  for (let i = 0; i < 3; i += 1) gc();
  return process.memoryUsage().heapUsed;
}

async function startLoadSimulator(): Promise<RunningSimulator> {
  const sim = await startSimulator({
    port: 0,
    loadTimeScale: 0,
    models: [
      { key: CHAT_MODEL, type: "llm", maxContextLength: 32768 },
      { key: EMBEDDING_MODEL, type: "embedding", maxContextLength: 2048, embeddingDimensions: DIMENSIONS },
    ],
    preload: [{ key: EMBEDDING_MODEL, contextLength: 2048 }],
  });
  const always = Number.POSITIVE_INFINITY;
  const probability = FAULT_PROBABILITY;
  sim.injectFault({ kind: "status", status: 503, path: "/v1/chat/completions", probability, times: always });
  sim.injectFault({
    kind: "reset-mid-stream",
    afterChunks: 1,
    path: "/v1/chat/completions",
    probability,
    times: always,
  });
  sim.injectFault({ kind: "empty-stream", path: "/v1/chat/completions", probability, times: always });
  sim.injectFault({ kind: "status", status: 500, path: "/v1/embeddings", probability, times: always });
  return sim;
}

interface Tally {
  succeeded: number;
  typedErrors: Map<string, number>;
  untyped: string[];
}

function tally(): Tally {
  return { succeeded: 0, typedErrors: new Map(), untyped: [] };
}

function record(into: Tally, outcome: PromiseSettledResult<boolean>, weight = 1): void {
  if (outcome.status === "fulfilled") {
    if (outcome.value) into.succeeded += weight;
    else into.untyped.push("a wrong answer");
    return;
  }
  const error = outcome.reason as unknown;
  if (isTypedError(error))
    into.typedErrors.set(errorName(error), (into.typedErrors.get(errorName(error)) ?? 0) + weight);
  else into.untyped.push(`${errorName(error)}: ${(error as Error)?.message}`);
}

const failed = (t: Tally) => [...t.typedErrors.values()].reduce((a, b) => a + b, 0);

async function chatLoad(sim: RunningSimulator, count: number): Promise<Tally> {
  // maxConcurrency keeps the in-flight sockets at what a local server would handle; all `count`
  // calls are still issued at once and queue in the model's AsyncCaller.
  const model = new ChatLMStudio({
    baseUrl: sim.baseUrl,
    model: CHAT_MODEL,
    maxRetries: 2,
    maxConcurrency: 64,
    timeout: 30_000,
  });
  const outcomes = await Promise.allSettled(
    Array.from({ length: count }, async (_, i) => {
      const prompt = `request number ${i}`;
      if (i % 2 === 0) return (await model.invoke(prompt)).text === `You said: ${prompt}`;
      let text = "";
      for await (const chunk of (await model.stream(prompt)) as AsyncIterable<AIMessageChunk>)
        text += chunk.text;
      return text === `You said: ${prompt}`;
    }),
  );
  const result = tally();
  for (const outcome of outcomes) record(result, outcome);
  return result;
}

async function embeddingLoad(sim: RunningSimulator, count: number): Promise<Tally> {
  const model = new LMStudioEmbeddings({
    baseUrl: sim.baseUrl,
    model: EMBEDDING_MODEL,
    apiKey: "",
    batchSize: 128,
    maxRetries: 2,
    maxConcurrency: 4,
    timeout: 30_000,
  });
  const perCall = 1_000;
  const outcomes = await Promise.allSettled(
    Array.from({ length: Math.ceil(count / perCall) }, async (_, call) => {
      const texts = Array.from(
        { length: Math.min(perCall, count - call * perCall) },
        (_, i) => `document ${call * perCall + i} about load`,
      );
      const vectors = await model.embedDocuments(texts);
      return vectors.length === texts.length && vectors.every((vector) => vector.length === DIMENSIONS);
    }),
  );
  const result = tally();
  outcomes.forEach((outcome, call) => {
    record(result, outcome, Math.min(perCall, count - call * perCall));
  });
  return result;
}

describe("load with 5 % injected faults", () => {
  it("accounts for 1,000 concurrent chat requests and 20,000 embeddings with no leaked handle and a bounded heap", async () => {
    const gc = collectGarbage();
    // Warm-up: module-level caches and lazy imports are part of the baseline, not growth.
    const warm = await startLoadSimulator();
    await chatLoad(warm, 20);
    await embeddingLoad(warm, 200);
    await warm.close();

    const handlesBefore = activeResources();
    const heapBefore = heapAfterGc(gc);
    const started = performance.now();

    const sim = await startLoadSimulator();
    const chat = await chatLoad(sim, CHAT_REQUESTS);
    const chatRequests = sim.requests.filter((r) => r.path === "/v1/chat/completions").length;
    const embeddings = await embeddingLoad(sim, EMBEDDING_TEXTS);
    const embeddingRequests = sim.requests.filter((r) => r.path === "/v1/embeddings").length;
    await sim.close();
    const elapsed = Math.round(performance.now() - started);

    const leaks = await leakedSince(handlesBefore);
    const heapAfter = heapAfterGc(gc);
    const ratio = heapAfter / heapBefore;

    console.log(
      `Load run (${Math.round(FAULT_PROBABILITY * 100)} % faults, ${elapsed} ms)\n${formatTable([
        ["workload", "issued", "succeeded", "typed errors", "untyped", "HTTP requests"],
        [
          "chat (half invoke, half stream)",
          String(CHAT_REQUESTS),
          String(chat.succeeded),
          [...chat.typedErrors].map(([name, n]) => `${name}×${n}`).join(" ") || "0",
          String(chat.untyped.length),
          String(chatRequests),
        ],
        [
          "embeddings (texts)",
          String(EMBEDDING_TEXTS),
          String(embeddings.succeeded),
          [...embeddings.typedErrors].map(([name, n]) => `${name}×${n}`).join(" ") || "0",
          String(embeddings.untyped.length),
          String(embeddingRequests),
        ],
      ])}\nheap before ${(heapBefore / 2 ** 20).toFixed(1)} MiB, after ${(heapAfter / 2 ** 20).toFixed(1)} MiB ` +
        `(×${ratio.toFixed(2)}); leaked handles: ${leaks.join(" ") || "none"}`,
    );

    // Every request accounted for: a correct answer or a typed error, nothing else.
    expect(chat.untyped).toEqual([]);
    expect(chat.succeeded + failed(chat)).toBe(CHAT_REQUESTS);
    expect(embeddings.untyped).toEqual([]);
    expect(embeddings.succeeded + failed(embeddings)).toBe(EMBEDDING_TEXTS);
    // Faults were really injected and retried: more HTTP requests than calls, and most calls still succeed.
    expect(chatRequests).toBeGreaterThan(CHAT_REQUESTS);
    expect(chat.succeeded).toBeGreaterThan(CHAT_REQUESTS * 0.8);
    expect(embeddingRequests).toBeGreaterThan(Math.ceil(EMBEDDING_TEXTS / 128));
    expect(embeddings.succeeded).toBe(EMBEDDING_TEXTS);
    expect(leaks).toEqual([]);
    expect(ratio).toBeLessThanOrEqual(1.5);
  }, 180_000);
});
