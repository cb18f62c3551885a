import { writeFile } from "node:fs/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { seededRandom } from "../../src/context-guard/haystack.js";
import { SdkModelHost } from "../../src/context-guard/index.js";
import {
  DEFAULT_PROBE_SETTINGS,
  fillLevels,
  loadLevel,
  type ProbeSettings,
} from "../../src/context-guard/probe.js";
import { buildTinyLlamaGguf, type RunningSimulator, startSimulator } from "../../src/testing/index.js";
import { tinyModelDir } from "../fixtures/tiny-llama.js";

process.env.LMS_NO_FANCY_ERRORS = "1";

const LLM = "tiny-llama";
const BROKEN = "tiny-llama-truncated";
const dir = tinyModelDir();
let sim: RunningSimulator;
let host: SdkModelHost;

const settings = (): ProbeSettings => ({ ...DEFAULT_PROBE_SETTINGS, random: seededRandom(7) });

beforeAll(async () => {
  const broken = dir.path("truncated.gguf");
  // A real GGUF cut short: llama.cpp itself refuses it.
  await writeFile(broken, buildTinyLlamaGguf({ contextLength: 4096 }).subarray(0, 4000));
  sim = await startSimulator({
    backend: "llama.cpp",
    loadTimeScale: 0,
    models: [
      {
        key: LLM,
        type: "llm",
        maxContextLength: 8192,
        gguf: await dir.write("tiny.gguf", { contextLength: 8192 }),
      },
      { key: BROKEN, type: "llm", maxContextLength: 4096, gguf: broken },
    ],
  });
  host = new SdkModelHost({ baseUrl: sim.baseUrl });
});
afterAll(async () => {
  await host?.close();
  await sim?.close();
  dir.remove();
});

describe("context guard probes on the llama.cpp backend", () => {
  it("L0 loads a real context and L1 fills it: the engine's prompt count matches the guard's", async () => {
    const l0 = await loadLevel(host, LLM, 4096, "probe-4096", settings());
    expect(l0.L0).toEqual({ passed: true });
    expect(l0.load).toMatchObject({ requested: 4096, actual: 4096, honoured: true });
    expect(sim.loaded()).toContainEqual(
      expect.objectContaining({ identifier: "probe-4096", contextLength: 4096 }),
    );

    const fill = await fillLevels(host, { identifier: "probe-4096", type: "llm" }, 4096, settings());
    expect(fill.L1).toEqual({ passed: true });
    // The guard sizes the prompt with countTokens (no BOS); llama.cpp evaluates BOS + those tokens.
    expect(fill.expectedPromptTokens).toBeLessThanOrEqual(4096 - DEFAULT_PROBE_SETTINGS.answerReserve);
    expect(fill.expectedPromptTokens).toBeGreaterThan(0.95 * (4096 - DEFAULT_PROBE_SETTINGS.answerReserve));
    expect(fill.promptTokens).toBe(fill.expectedPromptTokens! + 1);
    // A 64-wide model with zero attention cannot recall passkeys: L2 stays with the scripted backend.
    expect(fill.L2.passed).toBe(false);
    expect(fill.failureKind).toBe("wrong-answers");
    await host.unload({ identifier: "probe-4096", type: "llm" });
    expect(sim.loaded().map((i) => i.identifier)).not.toContain("probe-4096");
  });

  it("L0 records llama.cpp's refusal of a broken GGUF as LM Studio's load error", async () => {
    const l0 = await loadLevel(host, BROKEN, 2048, "probe-broken", settings());
    expect(l0.L0.passed).toBe(false);
    expect(l0.failureKind).toBe("load-error");
    expect(l0.L0.detail).toMatch(/^Failed to load model "tiny-llama-truncated"\. Error: /);
    expect(sim.loaded().map((i) => i.identifier)).not.toContain("probe-broken");
  });

  it("L1 reports the real overflow when the prompt is sized for a larger context than loaded", async () => {
    const l0 = await loadLevel(host, LLM, 1024, "probe-1024", settings());
    expect(l0.L0.passed).toBe(true);
    // Fill for 2048 on an instance that really has 1024: the engine refuses the prompt.
    const fill = await fillLevels(host, { identifier: "probe-1024", type: "llm" }, 2048, settings());
    expect(fill.L1.passed).toBe(false);
    expect(fill.failureKind).toBe("truncated");
    expect(fill.L1.detail).toMatch(/n_ctx: 1024/);
    await host.unload({ identifier: "probe-1024", type: "llm" });
  });
});
