import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { type ContextGuard, createContextGuard } from "../../src/context-guard/index.js";
import {
  ChatLMStudio,
  LMStudioEmbeddings,
  LMStudioMalformedEmbeddingError,
  LMStudioRequestError,
} from "../../src/index.js";
import { type RunningSimulator, startSimulator } from "../../src/testing/index.js";
import { wordTokenCounter } from "../embeddings/word-token-counter.js";
import { type RawServer, startRawServer } from "./raw-server.js";

/** Regressions for issue 16: failures must be typed, bounded and loud. One block per item. */

const MODEL = "qwen2.5-7b-instruct";
let sim: RunningSimulator | undefined;
let guard: ContextGuard | undefined;
let dir: string | undefined;
let raw: RawServer | undefined;
afterEach(async () => {
  await raw?.close();
  raw = undefined;
  await guard?.close();
  await sim?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
  sim = undefined;
  guard = undefined;
  dir = undefined;
});

async function guardFor(server: RunningSimulator): Promise<ContextGuard> {
  dir = await mkdtemp(join(tmpdir(), "issue16-"));
  guard = createContextGuard({ baseUrl: server.baseUrl, registryPath: join(dir, "registry.json") });
  return guard;
}

function chatRequests(server: RunningSimulator): number {
  return server.requests.filter((request) => request.path === "/v1/chat/completions").length;
}

describe("16.1 a guarded request that fails", () => {
  it("meeting HTTP 500 with maxRetries 0 reaches the server exactly once", async () => {
    sim = await startSimulator({ port: 0, loadTimeScale: 0 });
    const model = new ChatLMStudio({
      baseUrl: sim.baseUrl,
      model: MODEL,
      maxRetries: 0,
      contextGuard: await guardFor(sim),
    });
    sim.injectFault({ kind: "status", status: 500, path: "/v1/chat/completions", times: Infinity });
    const error = await model.invoke("Hello there").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LMStudioRequestError);
    expect((error as LMStudioRequestError).status).toBe(500);
    expect(chatRequests(sim)).toBe(1);
  });

  it("eight failing concurrent calls make eight requests", async () => {
    sim = await startSimulator({ port: 0, loadTimeScale: 0 });
    const model = new ChatLMStudio({
      baseUrl: sim.baseUrl,
      model: MODEL,
      maxRetries: 0,
      contextGuard: await guardFor(sim),
    });
    sim.injectFault({ kind: "status", status: 500, path: "/v1/chat/completions", times: Infinity });
    const errors = await Promise.all(
      Array.from({ length: 8 }, (_, i) => model.invoke(`Hello ${i}`).catch((e: unknown) => e)),
    );
    expect(errors.every((error) => error instanceof LMStudioRequestError)).toBe(true);
    expect(chatRequests(sim)).toBe(8);
  });
});

describe("16.7 a malformed embedding index", () => {
  it("is a typed error, and does not poison the dimension remembered for later answers", async () => {
    let index: number = 0.5;
    raw = await startRawServer((_req, res, body) => {
      const input = (JSON.parse(body) as { input: string[] }).input;
      res.writeHead(200, { "content-type": "application/json" });
      res.end(
        JSON.stringify({
          data: input.map((_text, i) => ({ embedding: [0.1, 0.2, 0.3], index: i === 0 ? index : i })),
        }),
      );
    });
    const embeddings = new LMStudioEmbeddings({
      baseUrl: raw.baseUrl,
      model: "embed",
      maxRetries: 0,
      tokenCounter: wordTokenCounter(2048).counter,
    });
    await expect(embeddings.embedQuery("one")).rejects.toBeInstanceOf(LMStudioMalformedEmbeddingError);
    await expect(embeddings.embedDocuments(["one", "two"])).rejects.toBeInstanceOf(
      LMStudioMalformedEmbeddingError,
    );
    index = 0;
    expect(await embeddings.embedDocuments(["one", "two"])).toEqual([
      [0.1, 0.2, 0.3],
      [0.1, 0.2, 0.3],
    ]);
  });

  it("an empty vector is malformed, not a 0-dimension model", async () => {
    let vector: number[] = [];
    raw = await startRawServer((_req, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ data: [{ embedding: vector, index: 0 }] }));
    });
    const embeddings = new LMStudioEmbeddings({
      baseUrl: raw.baseUrl,
      model: "embed",
      maxRetries: 0,
      tokenCounter: wordTokenCounter(2048).counter,
    });
    await expect(embeddings.embedQuery("one")).rejects.toBeInstanceOf(LMStudioMalformedEmbeddingError);
    vector = [1, 2];
    expect(await embeddings.embedQuery("one")).toEqual([1, 2]);
  });
});
