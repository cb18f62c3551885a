import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { RegistryJournal } from "../../src/context-guard/journal.js";
import { ContextRegistry } from "../../src/context-guard/registry.js";
import { freshEntry } from "../../src/context-guard/registry-schema.js";
import { searchUsableContext } from "../../src/context-guard/search.js";
import { FakeHost } from "./fake-host.js";

const identity = { modelKey: "m", format: "gguf", lmStudioVersion: "fake-1", loadSettings: "{}" };
let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "guard-journal-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("search with a registry journal", () => {
  it("writes the result, per-probe log and timings, and clears the probing marker", async () => {
    const registry = new ContextRegistry(join(dir, "r.json"));
    const host = new FakeHost([{ key: "m", declared: 65536, effective: 30_000 }]);
    const result = await searchUsableContext(
      host,
      { key: "m", declaredMax: 65536 },
      {
        seed: 1,
        journal: new RegistryJournal(registry, identity),
      },
    );
    const entry = await registry.find(identity);
    expect(entry).toMatchObject({
      status: "tested",
      testedMax: result.testedMax,
      usablePromptTokens: result.usablePromptTokens,
      declaredMax: 65536,
      loads: result.loads,
      failureKind: "wrong-answers",
    });
    expect(entry?.probing).toBeUndefined();
    expect(entry?.probes).toHaveLength(result.probes.length);
    expect(entry?.tokensPerSecond).toBe(50);
    expect(entry?.testedAt).toBeDefined();
  });

  it("treats a dead run's probing marker as a crash at that size and never retries it blindly", async () => {
    const registry = new ContextRegistry(join(dir, "r.json"));
    // A previous run (pid 2^22+1: not alive) died while probing 65536.
    await registry.updateEntry(identity, () => ({
      ...freshEntry(identity, { declaredMax: 131072 }),
      status: "testing",
      lastGood: 16384,
      loads: 2,
      probing: { contextLength: 65536, pid: 4_194_305, startedAt: new Date().toISOString() },
    }));
    const host = new FakeHost([{ key: "m", declared: 131072 }]);
    const result = await searchUsableContext(
      host,
      { key: "m", declaredMax: 131072 },
      {
        seed: 2,
        resume: true,
        journal: new RegistryJournal(registry, identity),
      },
    );
    expect(host.loadCalls.map((c) => c.contextLength)).not.toContain(65536);
    expect(host.loadCalls.every((c) => c.contextLength < 65536)).toBe(true);
    expect(result.testedMax).toBeLessThan(65536);
    const entry = await registry.find(identity);
    expect(entry?.probes.some((p) => p.failureKind === "crash" && p.contextLength === 65536)).toBe(true);
    expect(entry?.firstBad).toBeLessThanOrEqual(65536);
  });

  it("refuses to test a model another live process is testing", async () => {
    const registry = new ContextRegistry(join(dir, "r.json"));
    await registry.updateEntry(identity, () => ({
      ...freshEntry(identity, { declaredMax: 8192 }),
      probing: { contextLength: 8192, pid: process.ppid, startedAt: new Date().toISOString() },
    }));
    const host = new FakeHost([{ key: "m", declared: 8192 }]);
    await expect(
      searchUsableContext(
        host,
        { key: "m", declaredMax: 8192 },
        { journal: new RegistryJournal(registry, identity) },
      ),
    ).rejects.toThrow(/being tested by process/);
  });

  it("leaves the entry consistent and marked incomplete when aborted", async () => {
    const registry = new ContextRegistry(join(dir, "r.json"));
    const host = new FakeHost([{ key: "m", declared: 262144 }]);
    const controller = new AbortController();
    await expect(
      searchUsableContext(
        host,
        { key: "m", declaredMax: 262144 },
        {
          seed: 3,
          signal: controller.signal,
          journal: new RegistryJournal(registry, identity),
          onProbe: (_record, state) => {
            // The second load's own-size fill (its midpoint fill comes first).
            if (state.lastGood === 16384) controller.abort();
          },
        },
      ),
    ).rejects.toThrow(/abort/);
    const entry = await registry.find(identity);
    expect(entry).toMatchObject({ status: "incomplete", loads: 2, lastGood: 16384 });
    expect(entry?.probing).toBeUndefined();
    expect(host.instances.size).toBe(0);
  });
});
