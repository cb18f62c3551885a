import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type PipelineRun, runCategorization } from "../../examples/categorize/pipeline.js";
import { ContextRegistry } from "../../src/context-guard/index.js";
import { freshEntry } from "../../src/context-guard/registry-schema.js";
import { DEFAULT_MODELS, type RunningSimulator, startSimulator } from "../../src/testing/index.js";

/**
 * examples/categorize at concurrency 4 on LM Studio 0.4's defaults (4 slots, one shared KV cache), with
 * documents longer than the tested context: every prompt is sized close to it, so two at once would
 * exhaust the shared cache. The guard admits them one at a time and nothing fails.
 */
const TEXT_MODEL = "qwen2.5-7b-instruct";
const TESTED = 6400;
const DOCUMENTS = 8;

describe("examples/categorize at concurrency 4 with documents near the tested context", () => {
  let simulator: RunningSimulator;
  let root: string;
  let run: PipelineRun;

  beforeAll(async () => {
    simulator = await startSimulator({
      loadTimeScale: 0,
      // Predictions take time, so the four documents in flight really overlap on the instance.
      decodeMsPerToken: 1,
      prefillMsPer1kTokens: 20,
      models: [...DEFAULT_MODELS],
    });
    root = await mkdtemp(join(tmpdir(), "categorize-concurrency-"));
    const registryPath = join(root, "registry.json");
    const identity = { modelKey: TEXT_MODEL, format: "gguf", lmStudioVersion: "0.4.21", loadSettings: "{}" };
    await new ContextRegistry(registryPath).updateEntry(identity, () => ({
      ...freshEntry(identity, { declaredMax: 32768 }),
      status: "tested",
      testedMax: TESTED,
      usablePromptTokens: TESTED - 256,
    }));
    const input = join(root, "documents");
    await mkdir(input, { recursive: true });
    for (let i = 0; i < DOCUMENTS; i++) {
      const clause = `Clause ${i}: the tenant shall pay the monthly rent to the landlord before the fifth day. `;
      // ~12k simulator tokens each: far more than fits, so each prompt is cut to the tested context.
      await writeFile(join(input, `lease-${i}.txt`), `LEASE AGREEMENT ${i}\n${clause.repeat(700)}`);
    }
    run = await runCategorization({
      input,
      out: join(root, "results"),
      concurrency: 4,
      env: {
        LLM_PROVIDER: "lmstudio",
        LMSTUDIO_BASE_URL: simulator.baseUrl,
        LMSTUDIO_MODEL: TEXT_MODEL,
        LMSTUDIO_VISION_MODEL: "qwen2-vl-2b-instruct",
        LMSTUDIO_GUARD_REGISTRY: registryPath,
      },
    });
  }, 180_000);

  afterAll(async () => {
    await simulator?.close();
    if (root) await rm(root, { recursive: true, force: true });
  });

  it("classifies every document with no KV-cache exhaustion", () => {
    expect(run.records).toHaveLength(DOCUMENTS);
    expect(run.records.map((r) => r.status)).toEqual(Array(DOCUMENTS).fill("ok"));
    // The guard's instance is unloaded when the run ends; the simulator's totals per model remain.
    const totals = simulator.kvTotals(TEXT_MODEL);
    expect(totals.exhaustedPredictions).toBe(0);
    expect(totals.promptTokens).toBeGreaterThan(DOCUMENTS * TESTED * 0.6);
  });

  it("sized the prompts close to the tested context (so two would not fit side by side)", () => {
    for (const record of run.records) {
      expect(record.input_tokens).toBeGreaterThan(TESTED * 0.6);
      expect(record.input_tokens).toBeLessThanOrEqual(TESTED);
    }
  });
});
