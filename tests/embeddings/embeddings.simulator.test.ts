import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  LMStudioEmbeddings,
  type LMStudioEmbeddingsParams,
  LMStudioInputTooLongError,
  LMStudioNotEmbeddingModelError,
  LMStudioUnreachableError,
} from "../../src/index.js";
import { countSimulatorTokens, type RunningSimulator, startSimulator } from "../../src/testing/index.js";
import { closedPort } from "./closed-port.js";
import { wordTokenCounter } from "./word-token-counter.js";

/** LMStudioEmbeddings end to end against the simulator, counting tokens through the real SDK socket. */

const EMBEDDING_MODEL = "text-embedding-nomic-embed-text-v1.5";
const CHAT_MODEL = "qwen2.5-7b-instruct";
const CONTEXT = 64;

let sim: RunningSimulator;

beforeAll(async () => {
  sim = await startSimulator({
    port: 0,
    loadTimeScale: 0,
    preload: [{ key: EMBEDDING_MODEL, contextLength: CONTEXT }],
  });
});
afterAll(() => sim.close());
afterEach(() => {
  sim.requests.length = 0;
  sim.clearFaults();
});

function embeddings(fields: LMStudioEmbeddingsParams = {}) {
  return new LMStudioEmbeddings({ model: EMBEDDING_MODEL, baseUrl: sim.baseUrl, ...fields });
}

/** The server's own floats for `input`, read with a plain fetch. */
async function serverVectors(input: string[], model = EMBEDDING_MODEL): Promise<number[][]> {
  const response = await fetch(`${sim.baseUrl}/embeddings`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ model, input }),
  });
  const body = (await response.json()) as { data: Array<{ embedding: number[]; index: number }> };
  return body.data.sort((a, b) => a.index - b.index).map((item) => item.embedding);
}

function embeddingRequests() {
  return sim.requests.filter((request) => request.method === "POST" && request.path === "/v1/embeddings");
}

const chunks = (count: number) =>
  Array.from({ length: count }, (_, i) => `chunk ${i}: the quick brown fox ${i % 97} jumps`);

describe("LMStudioEmbeddings against the simulator", () => {
  it("returns exactly the server's floats", async () => {
    const texts = ["first text", "second, longer text with more words", "third"];
    const vectors = await embeddings().embedDocuments(texts);
    sim.requests.length = 0;
    expect(vectors).toEqual(await serverVectors(texts));
    expect(vectors[0]).toHaveLength(768);
  });

  it("embeds 1,000 texts in ceil(1000/batchSize) requests of floats", async () => {
    const texts = chunks(1000);
    const vectors = await embeddings({ batchSize: 128 }).embedDocuments(texts);
    const requests = embeddingRequests();
    expect(requests).toHaveLength(Math.ceil(1000 / 128));
    for (const request of requests) {
      expect((request.body as { encoding_format?: string }).encoding_format).toBe("float");
      expect((request.body as { input: string[] }).input.length).toBeLessThanOrEqual(128);
    }
    expect(vectors).toHaveLength(1000);
  });

  it("embeds 10,000 chunks in at most ceil(10000/batchSize) requests with the server's vectors", async () => {
    const texts = chunks(10_000);
    const batchSize = 512;
    const vectors = await embeddings({ batchSize, maxConcurrency: 4 }).embedDocuments(texts);
    expect(embeddingRequests().length).toBeLessThanOrEqual(Math.ceil(10_000 / batchSize));
    expect(vectors).toEqual(await serverVectors(texts));
    // The simulator computes 7.7 million floats twice here; that takes a while on a shared CI core.
  }, 120_000);

  it("retries a transient 503 and still returns the server's vectors", async () => {
    sim.injectFault({ kind: "status", status: 503, path: "/v1/embeddings", times: 1 });
    const vector = await embeddings().embedQuery("retry me");
    expect(embeddingRequests()).toHaveLength(2);
    expect(vector).toEqual((await serverVectors(["retry me"]))[0]);
  });
});

describe("long inputs, counted with the model's tokenizer over the SDK", () => {
  const long = Array.from({ length: 150 }, (_, i) => `word${i % 10}`).join(" ");

  it("the text really is longer than the loaded context", () => {
    expect(countSimulatorTokens(long)).toBeGreaterThan(CONTEXT);
  });

  it('"error" names the input with the tokenizer\'s count and sends nothing', async () => {
    const error = await embeddings({ onLongInput: "error" })
      .embedDocuments(["short", long])
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LMStudioInputTooLongError);
    expect(error).toMatchObject({
      inputIndex: 1,
      tokenCount: countSimulatorTokens(long),
      contextLength: CONTEXT,
    });
    expect(embeddingRequests()).toHaveLength(0);
  });

  it('"truncate" sends only a prefix that fits, and warns', async () => {
    const warnings: unknown[] = [];
    const vector = await embeddings({
      onLongInput: "truncate",
      onWarning: (w) => warnings.push(w),
    }).embedQuery(long);
    const sent = (embeddingRequests()[0]!.body as { input: string[] }).input[0]!;
    expect(long.startsWith(sent)).toBe(true);
    expect(countSimulatorTokens(sent)).toBeLessThanOrEqual(CONTEXT);
    expect(countSimulatorTokens(sent)).toBeGreaterThan(CONTEXT - 4);
    expect(warnings).toHaveLength(1);
    expect(vector).toEqual((await serverVectors([sent]))[0]);
  });

  it('"split" returns the normalised token-weighted mean of the pieces\' server vectors', async () => {
    const vector = await embeddings({ onLongInput: "split" }).embedQuery(long);
    const pieces = embeddingRequests().flatMap((request) => (request.body as { input: string[] }).input);
    expect(pieces.length).toBeGreaterThan(1);
    expect(pieces.join("")).toBe(long);
    for (const piece of pieces) expect(countSimulatorTokens(piece)).toBeLessThanOrEqual(CONTEXT);

    const pieceVectors = await serverVectors(pieces);
    const weights = pieces.map(countSimulatorTokens);
    const mean = pieceVectors[0]!.map((_, d) =>
      pieceVectors.reduce((sum, v, i) => sum + weights[i]! * v[d]!, 0),
    );
    const norm = Math.hypot(...mean);
    expect(vector).toHaveLength(768);
    for (const [d, value] of vector.entries()) expect(value).toBeCloseTo(mean[d]! / norm, 12);
  });

  it("never sends a text longer than the context, whatever the policy", async () => {
    for (const onLongInput of ["truncate", "split"] as const) {
      sim.requests.length = 0;
      await embeddings({ onLongInput, onWarning: () => undefined }).embedDocuments([long, "short", long]);
      const sent = embeddingRequests().flatMap((request) => (request.body as { input: string[] }).input);
      for (const text of sent) expect(countSimulatorTokens(text)).toBeLessThanOrEqual(CONTEXT);
    }
  });
});

describe("errors against the simulator", () => {
  it("refuses a chat model before sending any text", async () => {
    const error = await embeddings({ model: CHAT_MODEL })
      .embedQuery("hello")
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LMStudioNotEmbeddingModelError);
    expect(embeddingRequests()).toHaveLength(0);
  });

  it("maps the server's 'Model is not embedding' when the request is sent", async () => {
    const { counter } = wordTokenCounter(1000);
    const error = await embeddings({ model: CHAT_MODEL, tokenCounter: counter })
      .embedQuery("hello")
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LMStudioNotEmbeddingModelError);
    expect(embeddingRequests()).toHaveLength(1);
  });

  it("fails fast with LMStudioUnreachableError when LM Studio is not running", async () => {
    const error = await new LMStudioEmbeddings({
      model: EMBEDDING_MODEL,
      baseUrl: `http://127.0.0.1:${await closedPort()}/v1`,
    })
      .embedQuery("hello")
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LMStudioUnreachableError);
  });
});
