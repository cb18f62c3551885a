import { describe, expect, it } from "vitest";
import { planBatches } from "../../src/embeddings/batching.js";

describe("planBatches", () => {
  it("cuts by text count, in order, covering every text once", () => {
    const texts = Array.from({ length: 1001 }, (_, i) => `text ${i}`);
    const batches = planBatches(texts, { maxTexts: 100, maxBytes: 1e9 });
    expect(batches).toHaveLength(11);
    expect(batches[0]).toEqual([0, 100]);
    expect(batches.at(-1)).toEqual([1000, 1001]);
    expect(batches.flatMap(([start, end]) => texts.slice(start, end))).toEqual(texts);
  });

  it("cuts earlier when the JSON body would exceed maxBytes", () => {
    const texts = Array.from({ length: 10 }, () => "x".repeat(1000));
    const batches = planBatches(texts, { maxTexts: 512, maxBytes: 3600 });
    // 512 bytes of envelope + 3 × 1003 bytes fit in 3600; a fourth text does not.
    expect(batches).toEqual([
      [0, 3],
      [3, 6],
      [6, 9],
      [9, 10],
    ]);
  });

  it("counts escaped characters as the bytes they take in JSON", () => {
    const texts = ['"'.repeat(1000), '"'.repeat(1000)];
    // Each text is 2002 bytes once escaped: one per batch under a 3000-byte limit.
    expect(planBatches(texts, { maxTexts: 512, maxBytes: 3000 })).toEqual([
      [0, 1],
      [1, 2],
    ]);
  });

  it("puts an oversized text in a batch of its own rather than dropping it", () => {
    const texts = ["a", "b".repeat(10_000), "c"];
    expect(planBatches(texts, { maxTexts: 512, maxBytes: 2000 })).toEqual([
      [0, 1],
      [1, 2],
      [2, 3],
    ]);
  });

  it("plans nothing for no texts", () => {
    expect(planBatches([], { maxTexts: 512, maxBytes: 1e6 })).toEqual([]);
  });
});
