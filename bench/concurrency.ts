import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ContextRegistry, createContextGuard } from "../src/context-guard/index.js";
import { freshEntry } from "../src/context-guard/registry-schema.js";
import { ChatLMStudio, LMStudioKvCacheExhaustedError } from "../src/index.js";
import { startSimulator } from "../src/testing/index.js";
import { table } from "./stats.js";

/**
 * Guarded concurrency against serial requests on a parallel-4, unified-KV instance (LM Studio 0.4's
 * defaults). The simulator paces prompt processing and decoding; its slots do not slow each other
 * (a real GPU shares its compute between them), so the ratios are the scheduling gain the guard
 * leaves possible, an upper bound for real hardware.
 */

const MODEL = "bench-model";
const TESTED = 8192;
const REQUESTS = 16;
const MAX_TOKENS = 64;

export async function benchConcurrency(): Promise<string> {
  const sim = await startSimulator({
    loadTimeScale: 0,
    decodeMsPerToken: 2,
    prefillMsPer1kTokens: 40,
    models: [{ key: MODEL, type: "llm", maxContextLength: 32768 }],
  });
  const dir = await mkdtemp(join(tmpdir(), "bench-concurrency-"));
  const registryPath = join(dir, "registry.json");
  const identity = { modelKey: MODEL, format: "gguf", lmStudioVersion: "0.4.21", loadSettings: "{}" };
  await new ContextRegistry(registryPath).updateEntry(identity, () => ({
    ...freshEntry(identity, { declaredMax: 32768 }),
    status: "tested",
    testedMax: TESTED,
    usablePromptTokens: TESTED - 256,
  }));
  const guard = createContextGuard({ baseUrl: sim.baseUrl, registryPath });
  const rows: string[][] = [];
  try {
    const guarded = new ChatLMStudio({
      baseUrl: sim.baseUrl,
      model: MODEL,
      maxTokens: MAX_TOKENS,
      maxRetries: 0,
      contextGuard: guard,
    });
    // A distinct prompt per request (no shared prefix), of about `share` of the tested context.
    const prompt = (share: number, i: number) =>
      `request ${i}: ${"abcd ".repeat(Math.round(TESTED * share))}`;
    await guarded.invoke("warm up");
    const run = async (chat: ChatLMStudio, share: number, concurrency: number) => {
      const started = performance.now();
      let next = 0;
      let failed = 0;
      await Promise.all(
        Array.from({ length: concurrency }, async () => {
          while (next < REQUESTS) {
            const i = next++;
            await chat.invoke(prompt(share, i)).catch((error: unknown) => {
              if (!(error instanceof LMStudioKvCacheExhaustedError)) throw error;
              failed += 1;
            });
          }
        }),
      );
      return { ms: performance.now() - started, failed };
    };
    const unguarded = new ChatLMStudio({
      baseUrl: sim.baseUrl,
      model: `${MODEL}@guard-${TESTED}`,
      maxTokens: MAX_TOKENS,
      maxRetries: 0,
    });
    for (const share of [0.1, 0.4]) {
      const serial = await run(guarded, share, 1);
      const four = await run(guarded, share, 4);
      const raw = await run(unguarded, share, 4);
      rows.push([
        `${Math.round(share * 100)} %`,
        `${(serial.ms / REQUESTS).toFixed(0)} ms`,
        `${(serial.ms / four.ms).toFixed(2)}× (${four.failed} failed)`,
        `${(serial.ms / raw.ms).toFixed(2)}× (${raw.failed}/${REQUESTS} failed: KV cache exhausted)`,
      ]);
    }
  } finally {
    await guard.close();
    await sim.close();
    await rm(dir, { recursive: true, force: true });
  }
  return [
    `concurrency on a parallel-4 unified instance (${TESTED} tested context, ${REQUESTS} requests, max_tokens ${MAX_TOKENS}); throughput ÷ serial`,
    table(["prompt size", "serial per request", "guarded, 4 concurrent", "unguarded, 4 concurrent"], rows),
  ].join("\n");
}
