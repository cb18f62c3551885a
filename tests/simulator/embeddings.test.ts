import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { type RunningSimulator, startSimulator } from "../../src/testing/index.js";
import { postJson } from "./helpers.js";

const MODEL = "text-embedding-nomic-embed-text-v1.5";
let sim: RunningSimulator;

beforeAll(async () => {
  sim = await startSimulator({ loadTimeScale: 0 });
});
afterAll(async () => {
  await sim.close();
});

const cosine = (a: number[], b: number[]) => a.reduce((s, v, i) => s + v * b[i]!, 0);

describe("/v1/embeddings", () => {
  test("encoding_format base64 is ignored: the raw JSON holds floats", async () => {
    const res = await postJson(`${sim.baseUrl}/embeddings`, {
      model: MODEL,
      input: "hello",
      encoding_format: "base64",
    });
    expect(res.status).toBe(200);
    const embedding = res.body.data[0].embedding;
    expect(Array.isArray(embedding)).toBe(true);
    expect(embedding).toHaveLength(768);
    expect(embedding.every((v: unknown) => typeof v === "number")).toBe(true);
    expect(res.body).toMatchObject({
      object: "list",
      model: MODEL,
      usage: { prompt_tokens: 0, total_tokens: 0 },
    });
    expect(res.body.data[0]).toMatchObject({ object: "embedding", index: 0 });
  });

  test("the openai client with encoding_format float gets the right dimension", async () => {
    const client = new OpenAI({ baseURL: sim.baseUrl, apiKey: "x", maxRetries: 0 });
    const res = await client.embeddings.create({
      model: MODEL,
      input: ["a cat", "a dog"],
      encoding_format: "float",
    });
    expect(res.data).toHaveLength(2);
    expect(res.data[0]!.embedding).toHaveLength(768);
  });

  test("deterministic unit vectors; shared words are closer", async () => {
    const res = await postJson(`${sim.baseUrl}/embeddings`, {
      model: MODEL,
      input: [
        "the cat sat on the mat",
        "the cat sat on the mat",
        "a cat on a mat",
        "quantum chromodynamics lecture",
      ],
    });
    const [a, b, c, d] = res.body.data.map((x: { embedding: number[] }) => x.embedding) as number[][];
    expect(a).toEqual(b);
    expect(Math.hypot(...a!)).toBeCloseTo(1, 6);
    expect(cosine(a!, c!)).toBeGreaterThan(cosine(a!, d!));
  });
});
