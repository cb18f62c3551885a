import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { type ContextGuard, ContextRegistry, createContextGuard } from "../../src/context-guard/index.js";
import { freshEntry } from "../../src/context-guard/registry-schema.js";
import { ChatLMStudio, LMStudioKvCacheExhaustedError } from "../../src/index.js";
import { type RunningSimulator, type SimulatorOptions, startSimulator } from "../../src/testing/index.js";
import { tinyModelDir } from "../fixtures/tiny-llama.js";

process.env.LMS_NO_FANCY_ERRORS = "1";

const TESTED = 8192;
const MODEL = "tested-model";

let sim: RunningSimulator | undefined;
let dir: string | undefined;
const guards: ContextGuard[] = [];

afterEach(async () => {
  for (const guard of guards.splice(0)) await guard.close();
  await sim?.close();
  sim = undefined;
  if (dir) await rm(dir, { recursive: true, force: true });
  dir = undefined;
});

/** A registry where `model` was tested at `tested` tokens. */
async function testedRegistry(model: string, tested: number, declared: number): Promise<string> {
  dir = await mkdtemp(join(tmpdir(), "guard-admission-"));
  const path = join(dir, "registry.json");
  const identity = { modelKey: model, format: "gguf", lmStudioVersion: "0.4.21", loadSettings: "{}" };
  await new ContextRegistry(path).updateEntry(identity, () => ({
    ...freshEntry(identity, { declaredMax: declared }),
    status: "tested",
    testedMax: tested,
    usablePromptTokens: tested - 100,
  }));
  return path;
}

function guard(registryPath: string): ContextGuard {
  const g = createContextGuard({ baseUrl: sim!.baseUrl, registryPath, onWarning: () => undefined });
  guards.push(g);
  return g;
}

/** A prompt of about `tokens` simulator tokens (one per 4-letter word). */
const prompt = (tokens: number, tag: string) => `${tag} ${"abcd ".repeat(tokens)}`;

async function scripted(options: Partial<SimulatorOptions> = {}): Promise<string> {
  sim = await startSimulator({
    loadTimeScale: 0,
    decodeMsPerToken: 2,
    prefillMsPer1kTokens: 20,
    models: [{ key: MODEL, type: "llm", maxContextLength: 131072 }],
    ...options,
  });
  return testedRegistry(MODEL, TESTED, 131072);
}

function outcomesOf(results: PromiseSettledResult<unknown>[]) {
  return {
    ok: results.filter((r) => r.status === "fulfilled").length,
    exhausted: results.filter(
      (r) => r.status === "rejected" && r.reason instanceof LMStudioKvCacheExhaustedError,
    ).length,
    other: results
      .filter((r) => r.status === "rejected" && !(r.reason instanceof LMStudioKvCacheExhaustedError))
      .map((r) => String((r as PromiseRejectedResult).reason)),
  };
}

describe("admission control on a parallel-4 unified instance (scripted backend)", () => {
  it("8 concurrent guarded requests of ~40% of the tested context all succeed; unguarded they fail with the exhaustion error", async () => {
    const registryPath = await scripted();
    // Two guard objects (as two ChatLMStudio({contextGuard: true}) would build): one budget per instance.
    const [first, second] = [guard(registryPath), guard(registryPath)];
    const guarded = Array.from(
      { length: 8 },
      (_, i) =>
        new ChatLMStudio({
          baseUrl: sim!.baseUrl,
          model: MODEL,
          maxRetries: 0,
          maxTokens: 150,
          contextGuard: i % 2 === 0 ? first : second,
        }),
    );
    const size = Math.round(TESTED * 0.4);
    const results = await Promise.allSettled(guarded.map((chat, i) => chat.invoke(prompt(size, `g${i}`))));
    expect(outcomesOf(results)).toEqual({ ok: 8, exhausted: 0, other: [] });
    const instance = `${MODEL}@guard-${TESTED}`;
    expect(sim!.kvCache(instance)).toMatchObject({
      parallel: 4,
      unifiedKvCache: true,
      exhaustedPredictions: 0,
    });

    // The same requests without the guard, straight to the same instance.
    const unguarded = new ChatLMStudio({
      baseUrl: sim!.baseUrl,
      model: instance,
      maxRetries: 0,
      maxTokens: 150,
    });
    const raw = await Promise.allSettled(
      Array.from({ length: 8 }, (_, i) => unguarded.invoke(prompt(size, `u${i}`))),
    );
    const unguardedOutcome = outcomesOf(raw);
    expect(unguardedOutcome.other).toEqual([]);
    expect(unguardedOutcome.exhausted).toBeGreaterThanOrEqual(6);
  });

  it("a request is admitted only when it fits beside the others: per-slot caches admit up to the slot count", async () => {
    const registryPath = await scripted({
      preload: [
        { key: MODEL, identifier: `${MODEL}@guard-${TESTED}`, contextLength: TESTED, unifiedKvCache: false },
      ],
    });
    const g = guard(registryPath);
    const chat = new ChatLMStudio({
      baseUrl: sim!.baseUrl,
      model: MODEL,
      maxRetries: 0,
      maxTokens: 150,
      contextGuard: g,
    });
    const results = await Promise.allSettled(
      Array.from({ length: 8 }, (_, i) => chat.invoke(prompt(Math.round(TESTED * 0.6), `p${i}`))),
    );
    // 60% each: with a unified cache only one at a time would fit; per-slot caches run four.
    expect(outcomesOf(results)).toEqual({ ok: 8, exhausted: 0, other: [] });
    expect(sim!.kvCache(`${MODEL}@guard-${TESTED}`)).toMatchObject({ unifiedKvCache: false });
  });

  it("an exhaustion caused outside the guard is retried once after the pool drains; a stream already answering gets the typed error", async () => {
    const registryPath = await scripted();
    const g = guard(registryPath);
    const size = Math.round(TESTED * 0.4);
    const chat = new ChatLMStudio({
      baseUrl: sim!.baseUrl,
      model: MODEL,
      maxRetries: 0,
      maxTokens: 150,
      contextGuard: g,
    });
    // Load the guard's instance, then crowd it from outside the guard (another process, say).
    await chat.invoke("warm up");
    const instance = `${MODEL}@guard-${TESTED}`;
    const outsider = new ChatLMStudio({
      baseUrl: sim!.baseUrl,
      model: instance,
      maxRetries: 0,
      maxTokens: 300,
    });
    const streamed: string[] = [];
    const streamer = new ChatLMStudio({
      baseUrl: sim!.baseUrl,
      model: MODEL,
      maxRetries: 0,
      maxTokens: 600,
      contextGuard: g,
    });
    const streaming = (async () => {
      for await (const chunk of await streamer.stream(prompt(size, "stream")))
        streamed.push(String(chunk.content));
    })();
    await new Promise((resolve) => setTimeout(resolve, 150));
    const outside = outsider.invoke(prompt(size, "outside"));
    const retried = chat.invoke(prompt(size, "guarded"));
    const [streamOutcome, outsideOutcome, guardedOutcome] = await Promise.allSettled([
      streaming,
      outside,
      retried,
    ]);
    // The stream had answered already: no silent retry, the typed error reaches the caller.
    expect(streamed.length).toBeGreaterThan(0);
    expect(streamOutcome.status).toBe("rejected");
    expect((streamOutcome as PromiseRejectedResult).reason).toBeInstanceOf(LMStudioKvCacheExhaustedError);
    expect((outsideOutcome as PromiseRejectedResult).reason).toBeInstanceOf(LMStudioKvCacheExhaustedError);
    // The guarded request failed before its first token and was sent once more.
    expect(guardedOutcome.status).toBe("fulfilled");
    expect(sim!.kvCache(instance)?.exhaustedPredictions).toBe(3);
  });
});

describe("admission control on the llama.cpp backend", () => {
  it("8 concurrent guarded requests of ~40% of the tested context all succeed; unguarded they fail with the exhaustion error", async () => {
    const tiny = tinyModelDir();
    try {
      const tested = 2048;
      sim = await startSimulator({
        backend: "llama.cpp",
        loadTimeScale: 0,
        decodeMsPerToken: 5,
        models: [
          {
            key: MODEL,
            type: "llm",
            maxContextLength: 8192,
            gguf: await tiny.write("tiny.gguf", { contextLength: 8192 }),
          },
        ],
      });
      const registryPath = await testedRegistry(MODEL, tested, 8192);
      const g = guard(registryPath);
      // The tiny model has one token per byte: ~40% of 2048 tokens.
      const text = (tag: string) => `${tag} ${"x".repeat(Math.round(tested * 0.4) - 40)}`;
      const guarded = new ChatLMStudio({
        baseUrl: sim.baseUrl,
        model: MODEL,
        maxRetries: 0,
        maxTokens: 40,
        contextGuard: g,
      });
      const results = await Promise.allSettled(
        Array.from({ length: 8 }, (_, i) => guarded.invoke(text(`g${i}`))),
      );
      expect(outcomesOf(results)).toEqual({ ok: 8, exhausted: 0, other: [] });
      const instance = `${MODEL}@guard-${tested}`;
      expect(sim.kvCache(instance)).toMatchObject({
        parallel: 4,
        unifiedKvCache: true,
        exhaustedPredictions: 0,
      });

      const unguarded = new ChatLMStudio({
        baseUrl: sim.baseUrl,
        model: instance,
        maxRetries: 0,
        maxTokens: 40,
      });
      const raw = outcomesOf(
        await Promise.allSettled(Array.from({ length: 8 }, (_, i) => unguarded.invoke(text(`u${i}`)))),
      );
      expect(raw.other).toEqual([]);
      expect(raw.exhausted).toBeGreaterThanOrEqual(6);
    } finally {
      tiny.remove();
    }
  });
});
