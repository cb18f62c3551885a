import { describe, expect, it } from "vitest";
import {
  type EmbeddingContextGuard,
  type EmbeddingModelTokenizer,
  guardTokenCounter,
  TokenCountCache,
  TokenizerEmbeddingTokenCounter,
} from "../../src/embeddings/index.js";

function fakeHandle(contextLength: number) {
  const asked: string[] = [];
  const handle: EmbeddingModelTokenizer = {
    identifier: "embedder:2",
    async countTokens(text) {
      asked.push(text);
      return text.length;
    },
    async getContextLength() {
      return contextLength;
    },
  };
  return { handle, asked };
}

describe("TokenizerEmbeddingTokenCounter", () => {
  it("counts with the model's handle, in order, and asks once per distinct text", async () => {
    const { handle, asked } = fakeHandle(2048);
    const resolved: string[] = [];
    const counter = new TokenizerEmbeddingTokenCounter(async (model) => {
      resolved.push(model);
      return handle;
    });
    expect(await counter.countTokens("embedder", ["aaa", "b", "cc"])).toEqual([3, 1, 2]);
    expect(await counter.countTokens("embedder", ["cc", "dddd", "aaa"])).toEqual([2, 4, 3]);
    expect(asked).toEqual(["aaa", "b", "cc", "dddd"]);
    expect(resolved).toEqual(["embedder"]);
    expect(await counter.loadedModel("embedder")).toEqual({ identifier: "embedder:2", contextLength: 2048 });
  });

  it("keeps counts per model", async () => {
    const { handle, asked } = fakeHandle(2048);
    const counter = new TokenizerEmbeddingTokenCounter(async () => handle);
    await counter.countTokens("a", ["same"]);
    await counter.countTokens("b", ["same"]);
    expect(asked).toEqual(["same", "same"]);
  });

  it("looks the model up again once when the lookup fails, and reports a persistent failure", async () => {
    const { handle } = fakeHandle(512);
    let attempts = 0;
    const flaky = new TokenizerEmbeddingTokenCounter(async () => {
      attempts += 1;
      if (attempts === 1) throw new Error("not loaded yet");
      return handle;
    });
    expect((await flaky.loadedModel("m")).contextLength).toBe(512);
    expect(attempts).toBe(2);

    const broken = new TokenizerEmbeddingTokenCounter(async () => {
      throw new Error("no such model");
    });
    await expect(broken.loadedModel("m")).rejects.toThrow("no such model");
  });

  it("finds the instance again when the cached one was unloaded", async () => {
    let generation = 0;
    const counter = new TokenizerEmbeddingTokenCounter(async () => {
      const mine = ++generation;
      return {
        identifier: `m:${mine}`,
        countTokens: async (text) => text.length,
        getContextLength: async () => {
          if (mine !== generation || mine === 1) throw new Error("This model has already been unloaded");
          return 1024;
        },
      };
    });
    expect(await counter.loadedModel("m")).toEqual({ identifier: "m:2", contextLength: 1024 });
  });
});

describe("TokenCountCache", () => {
  it("evicts the least recently used entry past its size", () => {
    const cache = new TokenCountCache(2);
    cache.set("m", "a", 1);
    cache.set("m", "b", 2);
    expect(cache.get("m", "a")).toBe(1);
    cache.set("m", "c", 3);
    expect(cache.get("m", "b")).toBeUndefined();
    expect(cache.get("m", "a")).toBe(1);
    expect(cache.get("m", "c")).toBe(3);
    expect(cache.size).toBe(2);
  });
});

describe("guardTokenCounter", () => {
  it("takes the identifier, context and counts from clampEmbedding", async () => {
    const calls: string[][] = [];
    const guard: EmbeddingContextGuard = {
      async clampEmbedding(_model, texts) {
        calls.push(texts);
        return { model: "nomic:3", contextLength: 2048, tokenCounts: texts.map((text) => text.length) };
      },
    };
    const counter = guardTokenCounter(guard);
    expect(await counter.loadedModel("nomic")).toEqual({ identifier: "nomic:3", contextLength: 2048 });
    expect(await counter.countTokens("nomic", ["ab", "c"])).toEqual([2, 1]);
    expect(await counter.countTokens("nomic", [])).toEqual([]);
    expect(calls).toEqual([[], ["ab", "c"]]);
  });
});
