import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SdkModelHost } from "../../src/context-guard/index.js";
import { loadSdk } from "../../src/context-guard/load-sdk.js";
import { type RunningSimulator, startSimulator } from "../../src/testing/index.js";

/**
 * Regression: the SDK leaves its abort listeners on the signal it is given. The probe passes long-lived
 * timeout signals, so when such a signal fired after the call had finished and the host was closed, the
 * SDK tried to send "cancel" on its disposed transport and threw from inside the abort event: an
 * uncaught exception (or unhandled rejection) that would kill a long-running process minutes later.
 */

let sim: RunningSimulator;
beforeAll(async () => {
  sim = await startSimulator({
    port: 0,
    loadTimeScale: 0,
    models: [{ key: "m", type: "llm", maxContextLength: 8192 }],
  });
  // The SDK is imported on the first call; import it now so the 300 ms signals below time the calls only.
  await loadSdk();
});
afterAll(() => sim.close());

function collectProcessErrors() {
  const seen: unknown[] = [];
  const onError = (error: unknown) => seen.push(error);
  process.on("uncaughtException", onError);
  process.on("unhandledRejection", onError);
  return {
    seen,
    stop: () => {
      process.off("uncaughtException", onError);
      process.off("unhandledRejection", onError);
    },
  };
}

describe("SDK call signals", () => {
  it("a call's timeout signal firing after the host closed throws nothing", async () => {
    const errors = collectProcessErrors();
    try {
      const host = new SdkModelHost({ baseUrl: sim.baseUrl });
      const ref = { identifier: "m-signal", type: "llm" as const };
      await host.load("m", {
        identifier: ref.identifier,
        contextLength: 4096,
        signal: AbortSignal.timeout(300),
      });
      await host.respond(ref, [{ role: "user", content: "hi" }], {
        maxTokens: 8,
        signal: AbortSignal.timeout(300),
      });
      await host.close();
      // Let both timeout signals fire after the close.
      await new Promise((resolve) => setTimeout(resolve, 600));
      expect(errors.seen.map((e) => String(e))).toEqual([]);
    } finally {
      errors.stop();
    }
  });

  it("a caller's abort while the load is pending still cancels it", async () => {
    const slow = await startSimulator({
      port: 0,
      models: [{ key: "slow", type: "llm", maxContextLength: 8192, loadTimeMs: 5_000 }],
    });
    try {
      const host = new SdkModelHost({ baseUrl: slow.baseUrl });
      const load = host.load("slow", {
        identifier: "slow-1",
        contextLength: 4096,
        signal: AbortSignal.timeout(200),
      });
      await expect(load).rejects.toMatchObject({ kind: "timeout" });
      await host.close();
      expect(slow.loaded()).toEqual([]);
    } finally {
      await slow.close();
    }
  });
});
