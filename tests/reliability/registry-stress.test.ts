import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ContextRegistry, createContextGuard } from "../../src/context-guard/index.js";
import { freshEntry, registryFileSchema } from "../../src/context-guard/registry-schema.js";
import { type RunningSimulator, startSimulator } from "../../src/testing/index.js";

/**
 * The registry under stress, with real processes: many writers at once, writers and probes killed
 * with SIGKILL at arbitrary moments, and corrupted files. Builds on tests/context-guard's fixtures
 * (the same writer and search runner), at the sizes the reliability issue asks for.
 */

const writerScript = fileURLToPath(new URL("../context-guard/fixtures/registry-writer.ts", import.meta.url));
const searchScript = fileURLToPath(new URL("../context-guard/fixtures/search-runner.ts", import.meta.url));

function spawnTsx(script: string, args: string[]): ChildProcess {
  // The project's Node (the one running vitest) with tsx's loader: a real separate process.
  return spawn(process.execPath, ["--import", "tsx", script, ...args], {
    stdio: ["ignore", "ignore", "pipe"],
  });
}

function exitOf(
  child: ChildProcess,
): Promise<{ code: number | null; signal: string | null; stderr: string }> {
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  return new Promise((resolve) => child.on("exit", (code, signal) => resolve({ code, signal, stderr })));
}

const identity = (modelKey: string) => ({
  modelKey,
  format: "gguf",
  lmStudioVersion: "test",
  loadSettings: "{}",
});
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "reliability-registry-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("registry under stress", () => {
  it("loses none of 8 processes × 50 updates", async () => {
    const path = join(dir, "many-writers.json");
    const writers = 8;
    const perWriter = 50;
    const results = await Promise.all(
      Array.from({ length: writers }, (_, i) =>
        exitOf(spawnTsx(writerScript, [path, `w${i}`, String(perWriter)])),
      ),
    );
    for (const result of results) expect(result, result.stderr).toMatchObject({ code: 0 });
    const registry = new ContextRegistry(path);
    expect((await registry.health()).valid).toBe(true);
    const loads = new Map((await registry.entries()).map((entry) => [entry.modelKey, entry.loads]));
    for (let i = 0; i < writers; i += 1) expect(loads.get(`model-w${i}`)).toBe(perWriter);
    // Every writer also bumped one shared entry: the hardest case for a lost update.
    expect(loads.get("shared")).toBe(writers * perWriter);
    console.log(
      `registry: ${writers} processes × ${perWriter} updates (+ as many on a shared entry), none lost`,
    );
  }, 170_000);

  it("recovers after a writer is SIGKILLed mid-write, five times over, without losing a committed update", async () => {
    const path = join(dir, "killed-writer.json");
    const reader = new ContextRegistry(path, { lockStaleMs: 1_500 });
    let committed = 0;
    const delays = [60, 170, 35, 260, 110];
    for (const [round, delay] of delays.entries()) {
      const child = spawnTsx(writerScript, [path, "victim", "100000"]);
      const exited = exitOf(child);
      // Wait until this round's writer has committed at least once, then kill it at an arbitrary moment.
      for (let i = 0; i < 500; i += 1) {
        const loads = (await reader.find(identity("model-victim")).catch(() => undefined))?.loads ?? 0;
        if (loads > committed) break;
        await sleep(10);
      }
      await sleep(delay);
      child.kill("SIGKILL");
      expect((await exited).signal).toBe("SIGKILL");

      // The next start: a valid file, every update it had seen committed still there.
      const health = await reader.health();
      expect(health.valid, `round ${round}: ${health.problem}`).toBe(true);
      const loads = (await reader.find(identity("model-victim")))?.loads ?? 0;
      expect(loads).toBeGreaterThan(committed);
      committed = loads;
      // The dead writer's lock is broken as stale, so the next writer gets through.
      await reader.updateEntry(identity(`after-${round}`), () =>
        freshEntry(identity(`after-${round}`), { declaredMax: 4096 }),
      );
    }
    const entries = await reader.entries();
    expect(entries.filter((e) => e.modelKey.startsWith("after-"))).toHaveLength(delays.length);
    // The shared counter is bumped right after the victim's own, so each kill can leave it at most one
    // behind (a kill between the two writes); it never runs ahead, and it never loses more.
    const shared = entries.find((e) => e.modelKey === "shared")?.loads ?? 0;
    expect(committed - shared).toBeGreaterThanOrEqual(0);
    expect(committed - shared).toBeLessThanOrEqual(delays.length);
  }, 120_000);

  describe("a probe killed with SIGKILL", () => {
    let sim: RunningSimulator;
    beforeAll(async () => {
      sim = await startSimulator({
        port: 0,
        loadTimeScale: 0,
        models: [
          { key: "stress-model", type: "llm", maxContextLength: 1_048_576, effectiveContext: 200_000 },
        ],
      });
    });
    afterAll(() => sim.close());

    it("leaves a readable registry with the probing size, and the next start records it as a crash", async () => {
      const registryPath = join(dir, "killed-probe.json");
      const registry = new ContextRegistry(registryPath);
      const child = spawnTsx(searchScript, [sim.baseUrl, registryPath, "stress-model"]);
      const exited = exitOf(child);
      let probing: { contextLength: number; pid: number } | undefined;
      for (let i = 0; i < 3_000 && probing === undefined && child.exitCode === null; i += 1) {
        const entry = (await registry.entries().catch(() => []))[0];
        if (entry?.probing && entry.probing.contextLength > 4096) probing = entry.probing;
        else await sleep(10);
      }
      expect(probing, "the child never reached a probe beyond the first").toBeDefined();
      child.kill("SIGKILL");
      await exited;

      const killed = (await registry.entries())[0];
      expect((await registry.health()).valid).toBe(true);
      expect(killed?.probing).toEqual(
        expect.objectContaining({ contextLength: probing!.contextLength, pid: child.pid }),
      );

      // The next start, fresh (not resuming): the dead process's marker becomes a crash record at N.
      const guard = createContextGuard({ baseUrl: sim.baseUrl, registryPath });
      const result = await guard.test("stress-model", { seed: 9, maxLoads: 6 });
      await guard.close();
      const entry = (await registry.entries())[0];
      expect(entry?.probing).toBeUndefined();
      const crash = entry?.probes.find(
        (p) => p.failureKind === "crash" && p.contextLength === probing!.contextLength,
      );
      expect(crash?.levels.L0.detail).toMatch(new RegExp(`process ${child.pid} died while probing`));
      expect(entry?.firstBad).toBeLessThanOrEqual(probing!.contextLength);
      expect(result.testedMax ?? 0).toBeLessThan(probing!.contextLength);
      console.log(
        `registry: probe killed at ${probing!.contextLength}; next start recorded it and found ${result.testedMax}`,
      );
    }, 120_000);
  });

  it.each([
    ["truncated JSON", Buffer.from('{"version":1,"updatedAt":"x","entries":{"[\\"m')],
    ["an empty file", Buffer.alloc(0)],
    ["NUL bytes (a torn write on some file systems)", Buffer.alloc(512)],
    ["binary garbage", Buffer.from([0xff, 0xfe, 0x00, 0x7b, 0x22, 0x80, 0x81])],
    [
      "valid JSON of another version",
      Buffer.from(JSON.stringify({ version: 99, updatedAt: "x", entries: {} })),
    ],
  ])(
    "recovers a file corrupted with %s from the newest backup and keeps the bad copy",
    async (kind, bytes) => {
      const path = join(dir, `corrupt-${kind.replace(/\W+/g, "-")}.json`);
      const warnings: string[] = [];
      const registry = new ContextRegistry(path, { onWarning: (message) => warnings.push(message) });
      for (let i = 1; i <= 3; i += 1) {
        await registry.updateEntry(identity("m"), (current) => ({
          ...(current ?? freshEntry(identity("m"), { declaredMax: 8192 })),
          loads: i,
        }));
      }
      await writeFile(path, bytes);

      // The next start.
      const next = new ContextRegistry(path, { onWarning: (message) => warnings.push(message) });
      expect((await next.find(identity("m")))?.loads).toBe(2);
      const health = await next.health();
      expect(health.valid).toBe(true);
      expect(health.corruptFiles).toHaveLength(1);
      expect(Buffer.compare(await readFile(health.corruptFiles[0]!), bytes)).toBe(0);
      expect(registryFileSchema.safeParse(JSON.parse(await readFile(path, "utf8"))).success).toBe(true);
      expect(warnings.join("\n")).toMatch(/corrupt/);
      // Writing after recovery works and keeps the recovered history.
      await next.updateEntry(identity("m"), (current) => ({ ...current!, loads: current!.loads + 10 }));
      expect((await next.find(identity("m")))?.loads).toBe(12);
      const names = await readdir(dir);
      expect(
        names.filter((name) => name.startsWith(`corrupt-${kind.replace(/\W+/g, "-")}.json.corrupt-`)),
      ).toHaveLength(1);
    },
  );
});
