import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { GrowingHaystack, seededRandom } from "../../src/context-guard/haystack.js";
import { createContextGuard } from "../../src/context-guard/index.js";
import { startSimulator } from "../../src/testing/index.js";

describe("GrowingHaystack", () => {
  it("every probe's document is a prefix of a longer one, with passkeys all along it", () => {
    const haystack = new GrowingHaystack(seededRandom(3));
    const small = haystack.prefix(200, [0.1, 0.5, 0.9]);
    const large = haystack.prefix(1000, [0.1, 0.5, 0.9]);
    const documentOf = (turns: { content: string }[]) =>
      /<document>\n([\s\S]*)\n<\/document>/.exec(turns[1]!.content)![1]!;
    expect(documentOf(large.turns).startsWith(documentOf(small.turns))).toBe(true);
    // The system turn and the start of the user turn are the same, so the whole small document is shared.
    expect(large.turns[0]).toEqual(small.turns[0]);
    const planted = documentOf(large.turns).match(/The passkey for \S+ is \d{7}\./g) ?? [];
    expect(planted.length).toBe(50);
    expect(new Set(planted.map((p) => p.split(" ")[3])).size).toBe(50);
    // The questions ask for three distinct keys near 10/50/90 % of the current length, all inside it.
    expect(large.asked.map((n) => Math.round(n.depth * 10) / 10)).toEqual([0.1, 0.5, 0.9]);
    for (const needle of large.asked)
      expect(documentOf(large.turns)).toContain(`${needle.name} is ${needle.value}.`);
    expect(large.turns[1]!.content.endsWith(`What is the passkey for ${large.asked[2]!.name}?`)).toBe(true);
  });

  it("the same seed gives the same document; another seed another", () => {
    const a = new GrowingHaystack(seededRandom(5)).prefix(100, [0.5]);
    const b = new GrowingHaystack(seededRandom(5)).prefix(100, [0.5]);
    const c = new GrowingHaystack(seededRandom(6)).prefix(100, [0.5]);
    expect(a.turns).toEqual(b.turns);
    expect(a.turns).not.toEqual(c.turns);
  });
});

describe("the context search's prefill cost", () => {
  it("probes on a reused instance only process their new tail (the simulator counts what it prefilled)", async () => {
    const key = "recall-limited";
    const sim = await startSimulator({
      loadTimeScale: 0,
      models: [{ key, type: "llm", maxContextLength: 65536, effectiveContext: 20000 }],
    });
    const dir = await mkdtemp(join(tmpdir(), "prefill-"));
    try {
      const guard = createContextGuard({ baseUrl: sim.baseUrl, registryPath: join(dir, "registry.json") });
      const result = await guard.test(key, { seed: 3 });
      await guard.close();
      expect(result.status).toBe("tested");
      const fillsOnReusedInstances = result.probes.filter(
        (p) => !p.loaded && p.levels.L1.skipped !== true,
      ).length;
      expect(fillsOnReusedInstances).toBeGreaterThan(0);
      const { promptTokens, processedPromptTokens } = sim.kvTotals(key);
      expect(processedPromptTokens).toBeLessThan(promptTokens * 0.8);
      expect(processedPromptTokens).toBeGreaterThan(0);
    } finally {
      await sim.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
