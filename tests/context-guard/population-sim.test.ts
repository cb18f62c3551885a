import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createContextGuard } from "../../src/context-guard/index.js";
import { type RunningSimulator, startSimulator } from "../../src/testing/index.js";
import {
  median,
  simulatedModelSpec,
  simulatorPopulation,
  trueLoadableContext,
  trueUsableContext,
  trueUsablePrompt,
} from "./population.js";

const RESERVE = 256;
const all = simulatorPopulation();

let sim: RunningSimulator;
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "guard-pop-"));
  sim = await startSimulator({
    port: 0,
    loadTimeScale: 0,
    models: all.map(simulatedModelSpec),
  });
});
afterAll(async () => {
  await sim?.close();
  await rm(dir, { recursive: true, force: true });
});

describe("context search against the simulator", () => {
  it(`finds the usable context of ${all.length} simulated models within 5%, never beyond the truth, median ≤ 6 loads`, async () => {
    const guard = createContextGuard({ baseUrl: sim.baseUrl, registryPath: join(dir, "registry.json") });
    const rows: string[] = [];
    const loads: number[] = [];
    const outcomes = [];
    for (const m of all) {
      const result = await guard.test(m.key, { seed: 11 });
      const truth = trueUsableContext(m, RESERVE);
      loads.push(result.loads);
      outcomes.push({ m, result, truth });
      rows.push(
        `${m.key.padEnd(36)} declared=${String(m.declared).padStart(7)} loads=${result.loads} found=${String(result.testedMax).padStart(6)} ` +
          `truth=${String(truth).padStart(6)} (${(((result.testedMax ?? 0) / truth) * 100).toFixed(1)}%) prompt=${result.usablePromptTokens}/${trueUsablePrompt(m)} ${result.failureKind ?? ""}`,
      );
    }
    await guard.close();
    console.log(
      `simulator population (${all.length} models):\n${rows.join("\n")}\nloads: median ${median(loads)}, mean ${(loads.reduce((a, b) => a + b, 0) / loads.length).toFixed(2)}, max ${Math.max(...loads)}`,
    );
    expect(all.length).toBeGreaterThanOrEqual(30);
    for (const { m, result, truth } of outcomes) {
      expect(result.status, m.key).toBe("tested");
      expect(result.testedMax ?? 0, m.key).toBeLessThanOrEqual(trueLoadableContext(m));
      // The reported size works with the full answer reserve: its fill came within a sentence of it.
      expect(result.testedMax ?? 0, m.key).toBeLessThanOrEqual(truth);
      expect(result.usablePromptTokens ?? 0, m.key).toBeLessThanOrEqual(trueUsablePrompt(m));
      expect(result.testedMax ?? 0, m.key).toBeGreaterThanOrEqual(Math.floor(truth * 0.95));
    }
    expect(median(loads)).toBeLessThanOrEqual(6);
    expect(sim.loaded()).toEqual([]);
  }, 240_000);
});
