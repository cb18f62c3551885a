import { HttpResponse, http } from "msw";
import { setupServer } from "msw/node";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import {
  LMStudioEmbeddingDimensionError,
  LMStudioEmbeddings,
  type LMStudioEmbeddingsParams,
  LMStudioInputTooLongError,
  LMStudioMalformedEmbeddingError,
  LMStudioNotEmbeddingModelError,
  LMStudioRequestError,
  LMStudioUnreachableError,
} from "../../src/index.js";
import { closedPort } from "./closed-port.js";
import { wordTokenCounter } from "./word-token-counter.js";

/**
 * The embeddings class against a stubbed /v1/embeddings (msw), with a word-count tokenizer, so each
 * behaviour can be shaped exactly: batch sizes, odd responses, errors.
 */

const BASE_URL = "http://lmstudio.test:1234/v1";
const MODEL = "text-embedding-test";

interface EmbeddingsRequestBody {
  model: string;
  input: string[];
  encoding_format?: string;
  dimensions?: number;
}

/** A deterministic 3-dim vector per text: [length, words, first char code]. */
function vectorFor(text: string): number[] {
  return [text.length, text.split(/\s+/).filter(Boolean).length, text.charCodeAt(0) || 0];
}

const received: EmbeddingsRequestBody[] = [];
let respond: (body: EmbeddingsRequestBody) => Response | Promise<Response> = (body) =>
  HttpResponse.json({
    object: "list",
    data: body.input.map((text, index) => ({ object: "embedding", embedding: vectorFor(text), index })),
    model: body.model,
    usage: { prompt_tokens: 0, total_tokens: 0 },
  });
const defaultRespond = respond;

const server = setupServer(
  http.post(`${BASE_URL}/embeddings`, async ({ request }) => {
    const body = (await request.json()) as EmbeddingsRequestBody;
    received.push(body);
    return respond(body);
  }),
);

beforeAll(() => server.listen({ onUnhandledFrame: "bypass" }));
afterEach(() => {
  received.length = 0;
  respond = defaultRespond;
  server.resetHandlers();
});
afterAll(() => server.close());

function embeddings(fields: LMStudioEmbeddingsParams = {}, contextLength = 1000) {
  const { counter, counted } = wordTokenCounter(contextLength);
  const model = new LMStudioEmbeddings({
    model: MODEL,
    baseUrl: BASE_URL,
    tokenCounter: counter,
    maxRetries: 0,
    ...fields,
  });
  return { model, counted };
}

describe("LMStudioEmbeddings requests", () => {
  it("makes no request and counts nothing for no documents", async () => {
    const { model, counted } = embeddings({}, 1);
    expect(await model.embedDocuments([])).toEqual([]);
    expect(received).toHaveLength(0);
    expect(counted).toHaveLength(0);
  });

  it("always asks for floats and returns one vector per input, in order", async () => {
    const texts = ["alpha", "beta gamma", "delta epsilon zeta"];
    const { model } = embeddings();
    expect(await model.embedDocuments(texts)).toEqual(texts.map(vectorFor));
    expect(received).toHaveLength(1);
    expect(received[0]).toEqual({ model: MODEL, input: texts, encoding_format: "float" });
  });

  it("reorders the server's data by index", async () => {
    respond = (body) =>
      HttpResponse.json({
        data: body.input.map((text, index) => ({ embedding: vectorFor(text), index })).reverse(),
      });
    const { model } = embeddings();
    expect(await model.embedDocuments(["a", "bb", "ccc"])).toEqual(["a", "bb", "ccc"].map(vectorFor));
  });

  it("batches by batchSize and preserves order across concurrent batches", async () => {
    const texts = Array.from({ length: 1000 }, (_, i) => `text number ${i}`);
    const { model } = embeddings({ batchSize: 64, maxConcurrency: 4 });
    const vectors = await model.embedDocuments(texts);
    expect(received).toHaveLength(Math.ceil(1000 / 64));
    expect(received.every((body) => body.input.length <= 64)).toBe(true);
    expect(vectors).toEqual(texts.map(vectorFor));
  });

  it("cuts batches to maxRequestBytes", async () => {
    const texts = Array.from({ length: 20 }, (_, i) => `${i} ${"x".repeat(1000)}`);
    const { model } = embeddings({ maxRequestBytes: 5000 });
    await model.embedDocuments(texts);
    expect(received.length).toBeGreaterThan(1);
    for (const body of received) expect(Buffer.byteLength(JSON.stringify(body))).toBeLessThanOrEqual(5000);
    expect(received.flatMap((body) => body.input)).toEqual(texts);
  });

  it("replaces newlines only when stripNewLines is set", async () => {
    const { model } = embeddings({ stripNewLines: true });
    await model.embedQuery("one\ntwo");
    expect(received[0]?.input).toEqual(["one two"]);
  });

  it("sends the identifier the token counter resolved", async () => {
    const { counter } = wordTokenCounter(1000, `${MODEL}:2`);
    const model = new LMStudioEmbeddings({ model: MODEL, baseUrl: BASE_URL, tokenCounter: counter });
    await model.embedQuery("hello");
    expect(received[0]?.model).toBe(`${MODEL}:2`);
  });
});

describe("LMStudioEmbeddings response checks", () => {
  it("names the input whose vector has a different dimension", async () => {
    respond = (body) =>
      HttpResponse.json({
        data: body.input.map((_, index) => ({ embedding: index === 2 ? [1, 2] : [1, 2, 3], index })),
      });
    const { model } = embeddings();
    const error = await model.embedDocuments(["a", "b", "c", "d"]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LMStudioEmbeddingDimensionError);
    expect(error).toMatchObject({ inputIndex: 2, expectedDimensions: 3, actualDimensions: 2 });
  });

  it("catches a dimension change between calls", async () => {
    const { model } = embeddings();
    await model.embedQuery("first");
    respond = (body) =>
      HttpResponse.json({ data: body.input.map((_, index) => ({ embedding: [1], index })) });
    await expect(model.embedQuery("second")).rejects.toMatchObject({
      name: "LMStudioEmbeddingDimensionError",
      inputIndex: 0,
      expectedDimensions: 3,
      actualDimensions: 1,
    });
  });

  it("checks vectors against the dimensions option and sends it", async () => {
    const { model } = embeddings({ dimensions: 2 });
    await expect(model.embedQuery("text")).rejects.toMatchObject({
      name: "LMStudioEmbeddingDimensionError",
      expectedDimensions: 2,
      actualDimensions: 3,
    });
    expect(received[0]?.dimensions).toBe(2);
  });

  it("rejects base64 strings instead of decoding them into a wrong vector", async () => {
    respond = (body) =>
      HttpResponse.json({ data: body.input.map((_, index) => ({ embedding: "AACAPwAAAEA=", index })) });
    const { model } = embeddings();
    await expect(model.embedQuery("text")).rejects.toBeInstanceOf(LMStudioMalformedEmbeddingError);
  });

  it("rejects a response with fewer vectors than inputs", async () => {
    respond = () => HttpResponse.json({ data: [{ embedding: [1, 2, 3], index: 0 }] });
    const { model } = embeddings();
    await expect(model.embedDocuments(["a", "b"])).rejects.toThrow(/1 embeddings for 2 inputs/);
  });
});

describe("LMStudioEmbeddings errors", () => {
  it("turns 'Model is not embedding' into LMStudioNotEmbeddingModelError", async () => {
    respond = () =>
      HttpResponse.json(
        {
          error: {
            message: `Failed to load model "qwen2.5-7b-instruct". Error: Model is not embedding.`,
            type: "invalid_request_error",
            param: "model",
            code: "model_not_found",
          },
        },
        { status: 400 },
      );
    const { model } = embeddings({ maxRetries: 3 });
    const error = await model.embedQuery("text").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LMStudioNotEmbeddingModelError);
    expect((error as LMStudioNotEmbeddingModelError).model).toBe("qwen2.5-7b-instruct");
    expect(received).toHaveLength(1);
  });

  it("retries a transient 503 and then succeeds", async () => {
    let calls = 0;
    respond = (body) => {
      calls += 1;
      if (calls === 1) return HttpResponse.json({ error: "Model is loading" }, { status: 503 });
      return defaultRespond(body);
    };
    const { model } = embeddings({ maxRetries: 2 });
    expect(await model.embedQuery("hello")).toEqual(vectorFor("hello"));
    expect(calls).toBe(2);
  });

  it("gives up after maxRetries on a persistent 500 with a typed error", async () => {
    respond = () => HttpResponse.json({ error: "boom" }, { status: 500 });
    const { model } = embeddings({ maxRetries: 1 });
    const error = await model.embedQuery("hello").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LMStudioRequestError);
    expect((error as LMStudioRequestError).status).toBe(500);
    expect(received).toHaveLength(2);
  });

  it("fails at once with LMStudioUnreachableError when nothing listens", async () => {
    const fetchSpy = vi.fn(fetch);
    const { counter } = wordTokenCounter(1000);
    const baseUrl = `http://127.0.0.1:${await closedPort()}/v1`;
    const model = new LMStudioEmbeddings({
      model: MODEL,
      baseUrl,
      tokenCounter: counter,
      maxRetries: 6,
      fetch: fetchSpy,
    });
    const error = await model.embedQuery("hello").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LMStudioUnreachableError);
    expect((error as LMStudioUnreachableError).baseUrl).toBe(baseUrl);
    expect(fetchSpy).toHaveBeenCalledTimes(1);
  });

  it("reads the environment only for what the caller left out", () => {
    vi.stubEnv("LMSTUDIO_BASE_URL", "not a url");
    try {
      const { counter } = wordTokenCounter(1000);
      const explicit = { model: MODEL, baseUrl: BASE_URL, apiKey: "key", tokenCounter: counter };
      expect(new LMStudioEmbeddings(explicit).baseUrl).toBe(BASE_URL);
      expect(() => new LMStudioEmbeddings({ model: MODEL, apiKey: "key", tokenCounter: counter })).toThrow(
        /LMSTUDIO_BASE_URL/,
      );
    } finally {
      vi.unstubAllEnvs();
    }
  });

  it("needs a model", () => {
    const { counter } = wordTokenCounter(1000);
    expect(() => new LMStudioEmbeddings({ baseUrl: BASE_URL, tokenCounter: counter })).toThrow(
      /LMSTUDIO_EMBEDDING_MODEL/,
    );
  });
});

describe("LMStudioEmbeddings long inputs", () => {
  const long = Array.from({ length: 25 }, (_, i) => `word${i}`).join(" ");

  it('"error" names the input and its token counts and sends nothing', async () => {
    const { model } = embeddings({ onLongInput: "error" }, 10);
    const error = await model.embedDocuments(["short one", long]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LMStudioInputTooLongError);
    expect(error).toMatchObject({ inputIndex: 1, tokenCount: 25, contextLength: 10, model: MODEL });
    expect(received).toHaveLength(0);
  });

  it("defaults to error", async () => {
    const { model } = embeddings({}, 10);
    await expect(model.embedQuery(long)).rejects.toBeInstanceOf(LMStudioInputTooLongError);
  });

  it('"truncate" sends a prefix that fits and warns', async () => {
    const onWarning = vi.fn();
    const { model } = embeddings({ onLongInput: "truncate", onWarning }, 10);
    const [, vector] = await model.embedDocuments(["short one", long]);
    const sent = received[0]!.input[1]!;
    expect(sent).toBe(`${long.split(" ").slice(0, 10).join(" ")} `);
    expect(vector).toEqual(vectorFor(sent));
    expect(onWarning).toHaveBeenCalledTimes(1);
    expect(onWarning.mock.calls[0]![0]).toMatchObject({ inputIndex: 1, tokenCount: 25, keptTokens: 10 });
  });

  it('"split" embeds the pieces and returns their token-weighted, normalised mean', async () => {
    const { model } = embeddings({ onLongInput: "split" }, 10);
    const [first, vector] = await model.embedDocuments(["short one", long]);
    const sent = received.flatMap((body) => body.input);
    expect(sent[0]).toBe("short one");
    const pieces = sent.slice(1);
    expect(pieces.join("")).toBe(long);
    expect(pieces.map((piece) => piece.split(/\s+/).filter(Boolean).length)).toEqual([10, 10, 5]);

    const weights = [10, 10, 5];
    const mean = [0, 1, 2].map(
      (d) => pieces.reduce((sum, piece, i) => sum + weights[i]! * vectorFor(piece)[d]!, 0) / 25,
    );
    const norm = Math.hypot(...mean);
    expect(first).toEqual(vectorFor("short one"));
    expect(vector).toHaveLength(3);
    for (const [d, value] of vector!.entries()) expect(value).toBeCloseTo(mean[d]! / norm, 12);
  });
});
