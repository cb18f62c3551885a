import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ContextGuard, createContextGuard } from "../../src/context-guard/index.js";
import { type RunningSimulator, startSimulator } from "../../src/testing/index.js";

let sim: RunningSimulator;
let dir: string;
let guard: ContextGuard;

beforeAll(async () => {
  sim = await startSimulator({
    loadTimeScale: 0,
    models: [
      { key: "honest-embed", type: "embedding", maxContextLength: 2048 },
      // Declares 8192 but reads only its first 3000 tokens; the rest is dropped without a word.
      { key: "truncating-embed", type: "embedding", maxContextLength: 8192, effectiveContext: 3000 },
    ],
  });
  dir = await mkdtemp(join(tmpdir(), "embed-search-"));
  guard = createContextGuard({ baseUrl: sim.baseUrl, registryPath: join(dir, "registry.json") });
});
afterAll(async () => {
  await guard?.close();
  await sim?.close();
  await rm(dir, { recursive: true, force: true });
});

describe("testing an embedding model's usable input", () => {
  it("an honest model passes at its declared maximum in one load", async () => {
    const result = await guard.test("honest-embed", { seed: 1 });
    expect(result).toMatchObject({ status: "tested", testedMax: 2048, loads: 1 });
    expect(result.probes[0]!.levels.L2).toEqual({
      passed: true,
      detail: "the last sentence changes the vector",
    });
    expect(result.usablePromptTokens).toBeGreaterThan(2048 - 100);
    expect(result.usablePromptTokens).toBeLessThanOrEqual(2048);
  });

  it("silent truncation is caught (a changed end leaves the vector as it was) and the search finds the real limit", async () => {
    const result = await guard.test("truncating-embed", { seed: 1 });
    expect(result.status).toBe("tested");
    const first = result.probes[0]!;
    expect(first).toMatchObject({ contextLength: 8192, passed: false, failureKind: "truncated" });
    expect(first.levels.L2.detail).toMatch(/did not change the vector/);
    expect(result.testedMax).toBeLessThanOrEqual(3000 + 8);
    expect(result.testedMax).toBeGreaterThan(3000 * 0.9);
    expect(sim.loaded()).toEqual([]);
    // The registry now lists it as tested, and the guard uses the tested limit instead of the declared one.
    const limits = await guard.limitsFor("truncating-embed");
    expect(limits).toMatchObject({ source: "tested", contextLength: result.testedMax });
  });
});
