import { spawn } from "node:child_process";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ContextRegistry } from "../../src/context-guard/registry.js";
import { entryKey, freshEntry } from "../../src/context-guard/registry-schema.js";

const writerScript = fileURLToPath(new URL("./fixtures/registry-writer.ts", import.meta.url));

function runWriter(path: string, writer: string, count: number) {
  // The project's Node (the one running vitest) with tsx's loader: a real separate process per writer.
  return spawn(process.execPath, ["--import", "tsx", writerScript, path, writer, String(count)], {
    stdio: ["ignore", "ignore", "pipe"],
  });
}

function exitOf(child: ReturnType<typeof runWriter>): Promise<{ code: number | null; stderr: string }> {
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  return new Promise((resolve) => child.on("exit", (code) => resolve({ code, stderr })));
}

const identity = (modelKey: string) => ({
  modelKey,
  format: "gguf",
  lmStudioVersion: "test",
  loadSettings: "{}",
});

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "guard-registry-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("ContextRegistry", () => {
  it("round-trips entries whose model keys contain ../, NUL and unicode without creating paths from them", async () => {
    const registry = new ContextRegistry(join(dir, "registry.json"));
    const keys = ["../../etc/passwd", "a\u0000b", "模型/qwen🙂", "C:\\evil"];
    for (const key of keys) {
      await registry.updateEntry(identity(key), () => ({
        ...freshEntry(identity(key), { declaredMax: 8192 }),
        testedMax: 4096,
      }));
    }
    const entries = await registry.entries();
    expect(entries.map((e) => e.modelKey).sort()).toEqual([...keys].sort());
    expect((await registry.find(identity("a\u0000b")))?.testedMax).toBe(4096);
    // Only the registry, its lock's leftovers and the backup folder exist: no file named after a key.
    const names = await readdir(dir);
    expect(names.every((name) => name.startsWith("registry.json"))).toBe(true);
  });

  it("keys entries by model, format, LM Studio version and load settings", () => {
    const a = entryKey(identity("m"));
    expect(entryKey({ ...identity("m"), lmStudioVersion: "0.3.30" })).not.toBe(a);
    expect(entryKey({ ...identity("m"), format: "safetensors" })).not.toBe(a);
    expect(entryKey({ ...identity("m"), loadSettings: '{"flashAttention":true}' })).not.toBe(a);
    expect(entryKey(identity("m"))).toBe(a);
  });

  it("keeps only the newest 10 backups", async () => {
    const registry = new ContextRegistry(join(dir, "registry.json"));
    for (let i = 0; i < 15; i += 1) {
      await registry.updateEntry(identity("m"), (current) => ({
        ...(current ?? freshEntry(identity("m"), { declaredMax: 8192 })),
        loads: i,
      }));
    }
    const backups = await registry.listBackups();
    expect(backups).toHaveLength(10);
    const newest = JSON.parse(await readFile(backups[0]!, "utf8"));
    expect(Object.values(newest.entries as Record<string, { loads: number }>)[0]?.loads).toBe(13);
  });

  it("recovers a corrupt file from the newest valid backup and keeps the bad file aside", async () => {
    const path = join(dir, "registry.json");
    const warnings: string[] = [];
    const registry = new ContextRegistry(path, { onWarning: (m) => warnings.push(m) });
    for (let i = 1; i <= 3; i += 1) {
      await registry.updateEntry(identity("m"), (current) => ({
        ...(current ?? freshEntry(identity("m"), { declaredMax: 8192 })),
        loads: i,
      }));
    }
    await writeFile(path, '{"version":1,"entries":{"trunc');
    const recovered = await registry.find(identity("m"));
    expect(recovered?.loads).toBe(2); // the newest backup holds the state before the last write
    const health = await registry.health();
    expect(health.valid).toBe(true);
    expect(health.corruptFiles).toHaveLength(1);
    expect(await readFile(health.corruptFiles[0]!, "utf8")).toContain("trunc");
    expect(warnings.join("\n")).toMatch(/corrupt/);
  });

  it("treats valid JSON with the wrong shape as corrupt too", async () => {
    const path = join(dir, "registry.json");
    const registry = new ContextRegistry(path);
    await registry.updateEntry(identity("m"), () => freshEntry(identity("m"), { declaredMax: 8192 }));
    await registry.updateEntry(identity("n"), () => freshEntry(identity("n"), { declaredMax: 8192 }));
    await writeFile(path, JSON.stringify({ version: 1, updatedAt: "x", entries: { bad: { modelKey: 3 } } }));
    const entries = await registry.entries();
    expect(entries.map((e) => e.modelKey)).toEqual(["m"]);
  });

  it("loses no update when 8 processes write at once", async () => {
    const path = join(dir, "registry.json");
    const writers = 8;
    const perWriter = 12;
    const results = await Promise.all(
      Array.from({ length: writers }, (_, i) => exitOf(runWriter(path, `w${i}`, perWriter))),
    );
    for (const result of results) expect(result, result.stderr).toMatchObject({ code: 0 });
    const registry = new ContextRegistry(path);
    const byKey = new Map((await registry.entries()).map((e) => [e.modelKey, e.loads]));
    for (let i = 0; i < writers; i += 1) expect(byKey.get(`model-w${i}`)).toBe(perWriter);
    expect(byKey.get("shared")).toBe(writers * perWriter);
  }, 120_000);

  it("stays readable when a writer is killed mid-write", async () => {
    const path = join(dir, "registry.json");
    const child = runWriter(path, "victim", 100_000);
    const exited = exitOf(child);
    // Kill once it has written a few times, i.e. in the middle of its stream of writes.
    const registry = new ContextRegistry(path);
    for (;;) {
      const loads = (await registry.find(identity("model-victim")).catch(() => undefined))?.loads ?? 0;
      if (loads >= 3) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    child.kill("SIGKILL");
    await exited;
    const health = await registry.health();
    expect(health.valid).toBe(true);
    // The lock it may have held is stale-broken, so the next writer gets through.
    const fast = new ContextRegistry(path, { lockStaleMs: 2000 });
    await fast.updateEntry(identity("after"), () => freshEntry(identity("after"), { declaredMax: 4096 }));
    expect((await fast.find(identity("after")))?.declaredMax).toBe(4096);
  }, 60_000);
});
