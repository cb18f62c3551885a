import { describe, expect, it } from "vitest";
import { ModelHostError } from "../../src/context-guard/host.js";
import type { ProbeRecord } from "../../src/context-guard/registry-schema.js";
import { searchUsableContext } from "../../src/context-guard/search.js";
import { FakeHost } from "./fake-host.js";
import {
  median,
  population,
  trueLoadableContext,
  trueUsableContext,
  trueUsablePrompt,
} from "./population.js";

const RESERVE = 256;

function fakeFor(models: ReturnType<typeof population>) {
  return new FakeHost(
    models.map((m) => ({
      key: m.key,
      declared: m.declared,
      loadLimit: m.loadLimit,
      fillLimit: m.fillLimit,
      effective: m.effective,
      ...(m.autoFitTo ? { autoFitTo: m.autoFitTo } : {}),
    })),
  );
}

describe("searchUsableContext on a fake host", () => {
  it("finds every model's usable context within 5% of the truth and never beyond what loads or what processes, with a median of ≤ 6 loads", async () => {
    const models = population(36);
    const host = fakeFor(models);
    const rows: string[] = [];
    const loads: number[] = [];
    const results = [];
    for (const m of models) {
      const result = await searchUsableContext(host, { key: m.key, declaredMax: m.declared }, { seed: 1 });
      const truth = trueUsableContext(m, RESERVE);
      rows.push(
        `${m.key.padEnd(34)} loads=${result.loads} found=${result.testedMax} truth=${truth} prompt=${result.usablePromptTokens}/${trueUsablePrompt(m)} ${result.status}`,
      );
      loads.push(result.loads);
      results.push({ m, result, truth, leftLoaded: host.instances.size });
    }
    console.log(
      `fake-host population:\n${rows.join("\n")}\nmedian loads ${median(loads)}, max ${Math.max(...loads)}`,
    );
    for (const { m, result, truth, leftLoaded } of results) {
      expect(result.status, m.key).toBe("tested");
      const found = result.testedMax ?? 0;
      // "Never above": no context above what loads, no prompt above what processes and recalls.
      expect(found, m.key).toBeLessThanOrEqual(trueLoadableContext(m));
      expect(found, m.key).toBeGreaterThanOrEqual(Math.floor(truth * 0.95));
      expect(result.usablePromptTokens ?? 0, m.key).toBeLessThanOrEqual(trueUsablePrompt(m));
      expect(leftLoaded, `${m.key} left an instance loaded`).toBe(0);
    }
    expect(median(loads)).toBeLessThanOrEqual(6);
  });

  it("never reports a size that failed, nor one above it", async () => {
    const host = new FakeHost([{ key: "m", declared: 131072, effective: 20_000 }]);
    const result = await searchUsableContext(host, { key: "m", declaredMax: 131072 }, { seed: 2 });
    const failed = result.probes.filter((p) => !p.passed).map((p) => p.contextLength);
    expect(failed.length).toBeGreaterThan(0);
    expect(result.testedMax).toBeLessThan(Math.min(...failed));
    expect(result.failureKind).toBe("wrong-answers");
    const passedWithLoad = result.probes.filter((p) => p.passed && p.loaded).map((p) => p.contextLength);
    expect(passedWithLoad).toContain(result.testedMax);
  });

  it("records every level of every probe", async () => {
    const host = new FakeHost([{ key: "m", declared: 65536, fillLimit: 30_000 }]);
    const result = await searchUsableContext(host, { key: "m", declaredMax: 65536 }, { seed: 3 });
    for (const p of result.probes) expect(Object.keys(p.levels).sort()).toEqual(["L0", "L1", "L2"]);
    const oom = result.probes.find((p) => p.failureKind === "fill-oom");
    expect(oom?.levels.L1.passed).toBe(false);
    expect(oom?.levels.L2.skipped).toBe(true);
  });

  it("uses LM Studio's estimate to skip sizes that cannot load", async () => {
    const spec = { key: "m", declared: 262144, loadLimit: 50_000 };
    const without = await searchUsableContext(
      new FakeHost([spec]),
      { key: "m", declaredMax: 262144 },
      { seed: 4 },
    );
    const host = new FakeHost([spec]);
    host.estimates = true;
    const withEstimates = await searchUsableContext(host, { key: "m", declaredMax: 262144 }, { seed: 4 });
    expect(withEstimates.testedMax).toBe(without.testedMax);
    expect(withEstimates.loads).toBeLessThan(without.loads);
    // Bisection ran on the estimates: 4096 and 16384 while growing, then only the size they converged on.
    expect(withEstimates.loads).toBe(3);
    expect(withEstimates.probes.filter((p) => p.loaded && p.passed).map((p) => p.contextLength)).toEqual([
      4096,
      16384,
      withEstimates.testedMax,
    ]);
    expect(withEstimates.probes.some((p: ProbeRecord) => p.estimated && p.failureKind === "guardrail")).toBe(
      true,
    );
  });

  it("fills a load far above the largest pass at the midpoint first, on that same instance", async () => {
    const host = new FakeHost([{ key: "m", declared: 32768 }]);
    const result = await searchUsableContext(host, { key: "m", declaredMax: 32768 }, { seed: 6 });
    const steps = result.probes.map((p) => [p.contextLength, p.loadedContext, p.loaded, p.passed]);
    expect(steps).toEqual([
      [4096, 4096, true, true],
      [8192, 16384, false, true],
      [16384, 16384, true, true],
      [32768, 32768, true, true],
    ]);
    expect(result).toMatchObject({ status: "tested", testedMax: 32768, loads: 3 });
  });

  it("confirms a size verified on a larger instance with a load alone, no second fill", async () => {
    const host = new FakeHost([{ key: "m", declared: 32768, effective: 7000 }]);
    const result = await searchUsableContext(host, { key: "m", declaredMax: 32768 }, { seed: 7 });
    const confirm = result.probes.at(-1);
    expect(confirm).toMatchObject({ contextLength: result.testedMax, loaded: true, passed: true });
    expect(confirm?.levels.L1).toMatchObject({ passed: true, skipped: true });
    const byLarger = result.probes.find((p) => p.contextLength === result.testedMax && !p.loaded);
    expect(byLarger).toMatchObject({ passed: true });
    expect(confirm?.promptTokens).toBe(byLarger?.promptTokens);
    // One prediction per probe that filled: the confirm sent none.
    expect(host.respondCalls).toBe(result.probes.filter((p) => p.levels.L1.skipped !== true).length);
  });

  it("stops at the load budget and reports only a size verified with its own load", async () => {
    const host = new FakeHost([{ key: "m", declared: 1048576, loadLimit: 300_000 }]);
    const result = await searchUsableContext(
      host,
      { key: "m", declaredMax: 1048576 },
      { seed: 5, maxLoads: 4 },
    );
    expect(result.loads).toBeLessThanOrEqual(4);
    expect(result.status).toBe("incomplete");
    const passedWithLoad = result.probes.filter((p) => p.passed && p.loaded).map((p) => p.contextLength);
    expect(passedWithLoad).toContain(result.testedMax);
  });

  it("treats a read-back that differs from the request (auto-fit) as not honoured and reports what really loads", async () => {
    const host = new FakeHost([{ key: "m", declared: 131072, autoFitTo: 12288 }]);
    const result = await searchUsableContext(host, { key: "m", declaredMax: 131072 }, { seed: 6 });
    const notHonoured = result.probes.find((p) => p.failureKind === "not-honoured");
    expect(notHonoured?.loadedContext).toBe(12288);
    expect(result.testedMax).toBeLessThanOrEqual(12288);
    expect(result.testedMax).toBeGreaterThanOrEqual(Math.floor(12288 * 0.95));
  });

  it("retries a probe once after a dropped connection instead of calling the size bad", async () => {
    const host = new FakeHost([{ key: "m", declared: 32768 }]);
    host.failNextLoads = ["disconnect"];
    const result = await searchUsableContext(host, { key: "m", declaredMax: 32768 }, { seed: 7 });
    expect(result.probes[0]?.failureKind).toBe("disconnect");
    expect(result.testedMax).toBe(32768);
    expect(result.status).toBe("tested");
  });

  it("stops without recording the probe when LM Studio stopped answering, instead of bisecting on refused connections", async () => {
    const host = new FakeHost([{ key: "m", declared: 32768 }]);
    const refused = () => new ModelHostError("disconnect", "connect ECONNREFUSED 127.0.0.1:1234");
    const { load, listLoaded } = host;
    let serverUp = true;
    host.load = async () => {
      if (serverUp) {
        // The server is killed while this load runs: the socket drops, and every later connect is refused.
        serverUp = false;
        throw new ModelHostError("disconnect", "WebSocket connection closed");
      }
      throw refused();
    };
    host.listLoaded = async () => {
      if (!serverUp) throw refused();
      return listLoaded.call(host);
    };
    const recorded: ProbeRecord[] = [];
    const outcomes: string[] = [];
    const journal = {
      begin: async () => undefined,
      markProbing: async () => undefined,
      recordProbe: async (record: ProbeRecord) => void recorded.push(record),
      finish: async (outcome: { status: string }) => void outcomes.push(outcome.status),
      abandon: async () => void outcomes.push("abandoned"),
    };
    const run = searchUsableContext(host, { key: "m", declaredMax: 32768 }, { seed: 7, journal });
    await expect(run).rejects.toMatchObject({ name: "ModelHostError", kind: "disconnect" });
    expect(recorded).toEqual([]);
    expect(outcomes).toEqual(["incomplete"]);

    // Back up: a resumed search measures the full size, nothing was poisoned.
    host.load = load;
    host.listLoaded = listLoaded;
    const resumed = await searchUsableContext(host, { key: "m", declaredMax: 32768 }, { seed: 7 });
    expect(resumed.testedMax).toBe(32768);
  });

  it("unloads its instance and stops when aborted", async () => {
    const host = new FakeHost([{ key: "m", declared: 262144 }]);
    const controller = new AbortController();
    const run = searchUsableContext(
      host,
      { key: "m", declaredMax: 262144 },
      { seed: 8, signal: controller.signal, onProbe: () => controller.abort() },
    );
    await expect(run).rejects.toThrow(/abort/);
    expect(host.instances.size).toBe(0);
  });
});
