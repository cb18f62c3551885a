import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { SdkModelHost } from "../../src/context-guard/model-host.js";
import { DEFAULT_PROBE_SETTINGS, loadLevel } from "../../src/context-guard/probe.js";
import { type RunningSimulator, startSimulator } from "../../src/testing/index.js";

/**
 * The guard gives its probe instances an idle TTL so LM Studio cleans them up if the process dies
 * before it unloads them (issue 17 item 3). Here the "crash" is a host that never unloads.
 */

let sim: RunningSimulator;
beforeAll(async () => {
  sim = await startSimulator({
    loadTimeScale: 0,
    models: [{ key: "m", type: "llm", maxContextLength: 32768 }],
  });
});
afterAll(async () => {
  await sim.close();
});

describe("probe instances' TTL", () => {
  test("a probe instance left behind unloads after the probe TTL, not before", async () => {
    const abandoned = new SdkModelHost({ baseUrl: sim.baseUrl });
    const settings = { ...DEFAULT_PROBE_SETTINGS, random: () => 0.5 };
    const result = await loadLevel(abandoned, "m", 8192, "guard-probe-m-8192", settings);
    expect(result.L0.passed).toBe(true);
    expect(sim.loaded()).toEqual([
      { identifier: "guard-probe-m-8192", modelKey: "m", contextLength: 8192, jit: false },
    ]);
    // The process "dies" here: nothing unloads the instance.
    const ttlMs = DEFAULT_PROBE_SETTINGS.ttlSeconds * 1000;
    expect(sim.advanceClock(ttlMs - 1000)).toEqual([]);
    expect(sim.advanceClock(1000).map((i) => i.identifier)).toEqual(["guard-probe-m-8192"]);
    expect(sim.loaded()).toEqual([]);
    // Closing the host later finds the instance gone and does not fail.
    await expect(abandoned.close()).resolves.toBeUndefined();
  });
});
