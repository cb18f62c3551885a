import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { ModelHostError } from "../../src/context-guard/host.js";
import { SdkModelHost } from "../../src/context-guard/model-host.js";
import { DEFAULT_PROBE_SETTINGS, loadLevel } from "../../src/context-guard/probe.js";
import { type RunningSimulator, startSimulator } from "../../src/testing/index.js";

/**
 * An LM Studio older than the SDK answers an unknown endpoint with a communicationWarning and never
 * replies (reference §10). A call that carries a deadline must still settle, with a typed error.
 */

let sim: RunningSimulator;
let host: SdkModelHost;
beforeAll(async () => {
  sim = await startSimulator({
    loadTimeScale: 0,
    models: [{ key: "m", type: "llm", maxContextLength: 32768 }],
    sdkEndpointsMissing: ["llm/loadModel"],
  });
  host = new SdkModelHost({ baseUrl: sim.baseUrl });
});
afterAll(async () => {
  await sim.close();
  // Not awaited: the SDK's client disposal waits for the load channels the server never answered,
  // so host.close() does not settle after a timed-out silent call (left to the SDK-deadline work).
  void host.close();
});

describe("deadline on a silent endpoint", () => {
  test("host.load with a deadline settles as a timeout ModelHostError", async () => {
    const failure = await host
      .load("m", { identifier: "silent-1", contextLength: 4096, signal: AbortSignal.timeout(300) })
      .catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(ModelHostError);
    expect((failure as ModelHostError).kind).toBe("timeout");
    expect(sim.loaded()).toEqual([]);
  });

  test("a probe's load level records the timeout as its failure kind", async () => {
    const settings = { ...DEFAULT_PROBE_SETTINGS, loadTimeoutMs: 300, random: () => 0.5 };
    const result = await loadLevel(host, "m", 4096, "silent-probe", settings);
    expect(result.L0.passed).toBe(false);
    expect(result.failureKind).toBe("timeout");
  });
});
