import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ContextRegistry, createContextGuard } from "../../src/context-guard/index.js";
import { type RunningSimulator, startSimulator } from "../../src/testing/index.js";

const runner = fileURLToPath(new URL("./fixtures/search-runner.ts", import.meta.url));
let sim: RunningSimulator;
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "guard-resilience-"));
  sim = await startSimulator({
    port: 0,
    loadTimeScale: 0,
    models: [
      { key: "big-model", type: "llm", maxContextLength: 1_048_576, effectiveContext: 300_000 },
      { key: "drop-model", type: "llm", maxContextLength: 32768 },
    ],
  });
});
afterAll(async () => {
  await sim?.close();
  await rm(dir, { recursive: true, force: true });
});

describe("resilience", () => {
  it("a run killed mid-probe leaves a readable registry with the probing size, and the next run resumes without retrying it", async () => {
    const registryPath = join(dir, "killed.json");
    const registry = new ContextRegistry(registryPath);
    const child = spawn(
      process.execPath,
      ["--import", "tsx", runner, sim.baseUrl, registryPath, "big-model"],
      {
        stdio: ["ignore", "ignore", "pipe"],
      },
    );
    let stderr = "";
    child.stderr?.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
    let probing: number | undefined;
    let lastGood: number | undefined;
    // Wait until the child is inside a large probe (its marker stays set through load and fill).
    for (let i = 0; i < 3000 && probing === undefined; i += 1) {
      const entry = (await registry.entries().catch(() => []))[0];
      if (entry?.probing && entry.probing.contextLength >= 65536) {
        probing = entry.probing.contextLength;
        lastGood = entry.lastGood;
      } else await new Promise((r) => setTimeout(r, 10));
      if (child.exitCode !== null) break;
    }
    expect(probing, `child never reached a large probe: ${stderr}`).toBeDefined();
    child.kill("SIGKILL");
    await exited;

    const killed = (await registry.entries())[0];
    expect((await registry.health()).valid).toBe(true);
    expect(killed?.probing?.contextLength).toBe(probing);
    expect(killed?.status).toBe("testing");

    const guard = createContextGuard({ baseUrl: sim.baseUrl, registryPath });
    const result = await guard.test("big-model", { seed: 6, resume: true });
    await guard.close();
    const loadedSizes = result.probes.filter((p) => p.loaded).map((p) => p.contextLength);
    expect(loadedSizes).not.toContain(probing);
    expect(result.testedMax).toBeLessThan(probing ?? 0);
    expect(result.testedMax).toBeGreaterThanOrEqual(lastGood ?? 0);
    const entry = (await registry.entries())[0];
    expect(entry?.probing).toBeUndefined();
    expect(entry?.status).toBe("tested");
    expect(entry?.probes.some((p) => p.failureKind === "crash" && p.contextLength === probing)).toBe(true);
    console.log(
      `killed while probing ${probing} (last good ${lastGood}); resumed run found ${result.testedMax} with ${result.loads} loads in total`,
    );
  }, 120_000);

  it("survives a WebSocket drop mid-load: reconnects, retries, reports the right size and leaks no instance", async () => {
    const registryPath = join(dir, "drop.json");
    sim.injectFault({ kind: "ws-drop-mid-load" });
    const guard = createContextGuard({ baseUrl: sim.baseUrl, registryPath });
    const result = await guard.test("drop-model", { seed: 7 });
    await guard.close();
    expect(result.probes[0]?.failureKind).toBe("disconnect");
    expect(result.status).toBe("tested");
    expect(result.testedMax).toBe(32768);
    expect(sim.loaded().filter((i) => i.modelKey === "drop-model")).toEqual([]);
  }, 60_000);
});
