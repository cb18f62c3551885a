import type { EmbeddingsInterface } from "@langchain/core/embeddings";
import { describe, expect, it } from "vitest";

/**
 * A port of Python langchain-tests' `EmbeddingsIntegrationTests` (libs/standard-tests,
 * integration_tests/embeddings.py): JS has no embeddings standard tests, so we keep our own.
 * Python's `aembed_*` variants exist because Python has sync and async APIs; every JS call is
 * async, so here they check the same properties with calls in flight at the same time.
 */

function expectFloatVector(vector: unknown): asserts vector is number[] {
  expect(Array.isArray(vector)).toBe(true);
  const values = vector as unknown[];
  expect(values.length).toBeGreaterThan(0);
  for (const value of values) {
    expect(typeof value).toBe("number");
    expect(Number.isFinite(value)).toBe(true);
  }
}

export function runEmbeddingsIntegrationTests(name: string, create: () => EmbeddingsInterface): void {
  const documents = ["foo", "bar", "baz"];

  describe(`${name}: EmbeddingsIntegrationTests`, () => {
    it("test_embed_query", async () => {
      expectFloatVector(await create().embedQuery("foo"));
    });

    it("test_embed_documents", async () => {
      const vectors = await create().embedDocuments(documents);
      expect(vectors).toHaveLength(documents.length);
      for (const vector of vectors) expectFloatVector(vector);
      const lengths = new Set(vectors.map((vector) => vector.length));
      expect(lengths.size).toBe(1);
    });

    it("test_aembed_query", async () => {
      const model = create();
      const [foo, bar] = await Promise.all([model.embedQuery("foo"), model.embedQuery("bar")]);
      expectFloatVector(foo);
      expectFloatVector(bar);
      expect(foo).toHaveLength(bar.length);
    });

    it("test_aembed_documents", async () => {
      const model = create();
      const [first, second] = await Promise.all([
        model.embedDocuments(documents),
        model.embedDocuments([...documents].reverse()),
      ]);
      expect(first).toHaveLength(documents.length);
      for (const vector of first) expectFloatVector(vector);
      expect(new Set(first.map((vector) => vector.length)).size).toBe(1);
      // Same texts in reverse order give the same vectors in reverse order.
      expect(second).toEqual([...first].reverse());
    });
  });
}
