import { AIMessage, AIMessageChunk } from "@langchain/core/messages";
import fc from "fast-check";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { EmbeddingTokenCounter } from "../../src/index.js";
import { ChatLMStudio, LMStudioEmbeddings } from "../../src/index.js";
import { type RawServer, startRawServer } from "./raw-server.js";
import { errorName, isTypedError, settleWithin } from "./support.js";

/**
 * Malformed servers: a loopback server answers each call with a random mutation of a valid LM Studio
 * response (truncated JSON, wrong types, missing fields, garbage SSE lines, huge payloads, invalid
 * UTF-8, odd statuses, a dropped socket). Every call must settle, with a valid result or a typed
 * error, and nothing may surface as an unhandled rejection or an uncaught exception.
 */

const MODEL = "qwen2.5-7b-instruct";
const EMBEDDING_MODEL = "text-embedding-nomic-embed-text-v1.5";
const RUNS = 100;
/** Far above the client timeout below: a call still pending at this point is a hang. */
const SETTLE_BOUND_MS = 15_000;
const CLIENT_TIMEOUT_MS = 5_000;
const MAX_HUGE_BYTES = 5 * 1024 * 1024;

/** What the server sends for one call. */
interface Scenario {
  status: number;
  contentType: string;
  /** "destroy": the socket is closed without any answer. */
  body: Buffer | "destroy";
}

let scenario: Scenario = { status: 200, contentType: "application/json", body: Buffer.from("{}") };
let server: RawServer;
const tried = { invoke: 0, stream: 0, embeddings: 0, ok: 0, typed: 0 };

beforeAll(async () => {
  server = await startRawServer((_req, res) => {
    const current = scenario;
    if (current.body === "destroy") {
      res.socket?.destroy();
      return;
    }
    res.writeHead(current.status, { "content-type": current.contentType });
    res.end(current.body);
  });
});
afterAll(async () => {
  await server.close();
  console.log(
    `malformed servers: ${tried.invoke} invoke, ${tried.stream} stream, ${tried.embeddings} embeddings calls; ` +
      `${tried.ok} valid results, ${tried.typed} typed errors, 0 hangs, 0 unhandled`,
  );
});

// Unhandled rejections and uncaught exceptions during a property are failures of that property.
const processErrors: unknown[] = [];
const onProcessError = (error: unknown) => processErrors.push(error);
beforeEach(() => {
  processErrors.length = 0;
  process.on("unhandledRejection", onProcessError);
  process.on("uncaughtException", onProcessError);
});
afterEach(() => {
  process.off("unhandledRejection", onProcessError);
  process.off("uncaughtException", onProcessError);
  expect(processErrors.map(String)).toEqual([]);
});

// ---- valid responses ---------------------------------------------------------------------------

function completion(content: string): Record<string, unknown> {
  return {
    id: "chatcmpl-1",
    object: "chat.completion",
    created: 1_700_000_000,
    model: MODEL,
    choices: [{ index: 0, message: { role: "assistant", content }, logprobs: null, finish_reason: "stop" }],
    usage: { prompt_tokens: 9, completion_tokens: 3, total_tokens: 12 },
    system_fingerprint: MODEL,
  };
}

function streamFrames(content: string): Record<string, unknown>[] {
  const base = { id: "chatcmpl-1", object: "chat.completion.chunk", created: 1_700_000_000, model: MODEL };
  // Token-sized pieces, but never more than ~200 frames: a multi-megabyte answer stays a few big frames.
  const size = Math.max(8, Math.ceil(content.length / 200));
  const pieces = content.match(new RegExp(`.{1,${size}}`, "gs")) ?? [""];
  return [
    { ...base, choices: [{ index: 0, delta: { role: "assistant", content: "" }, finish_reason: null }] },
    ...pieces.map((piece) => ({
      ...base,
      choices: [{ index: 0, delta: { content: piece }, finish_reason: null }],
    })),
    { ...base, choices: [{ index: 0, delta: {}, finish_reason: "stop" }] },
    { ...base, choices: [], usage: { prompt_tokens: 9, completion_tokens: 3, total_tokens: 12 } },
  ];
}

function embeddingList(count: number, dimensions: number): Record<string, unknown> {
  return {
    object: "list",
    model: EMBEDDING_MODEL,
    data: Array.from({ length: count }, (_, index) => ({
      object: "embedding",
      index,
      embedding: Array.from({ length: dimensions }, (_, i) => Math.sin(index + i)),
    })),
    usage: { prompt_tokens: 4, total_tokens: 4 },
  };
}

// ---- mutations -----------------------------------------------------------------------------------

type JsonMutation = { kind: "delete" | "replace"; pathIndex: number; value: unknown } | { kind: "none" };

const jsonMutation: fc.Arbitrary<JsonMutation> = fc.oneof(
  { weight: 1, arbitrary: fc.constant({ kind: "none" as const }) },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constantFrom("delete" as const, "replace" as const),
      pathIndex: fc.nat(),
      value: fc.oneof(
        fc.jsonValue({ maxDepth: 2 }),
        fc.constantFrom(null, -1, 1e308, "", "NaN", [], {}, [[]], { error: "boom" }, true),
      ),
    }),
  },
);

/** Every (parent, key) in a JSON value, so a mutation can pick any field at any depth. */
function slots(value: unknown, out: Array<[Record<string, unknown> | unknown[], string | number]> = []) {
  if (Array.isArray(value)) {
    value.forEach((item, i) => {
      out.push([value, i]);
      slots(item, out);
    });
  } else if (typeof value === "object" && value !== null) {
    for (const [key, item] of Object.entries(value)) {
      out.push([value as Record<string, unknown>, key]);
      slots(item, out);
    }
  }
  return out;
}

function applyJsonMutation<T>(value: T, mutation: JsonMutation): T {
  if (mutation.kind === "none") return value;
  const copy = structuredClone(value);
  const all = slots(copy);
  if (all.length === 0) return copy;
  const [parent, key] = all[mutation.pathIndex % all.length]!;
  if (mutation.kind === "replace") (parent as Record<string | number, unknown>)[key] = mutation.value;
  else if (Array.isArray(parent)) parent.splice(key as number, 1);
  else delete (parent as Record<string, unknown>)[key as string];
  return copy;
}

type ByteMutation =
  | { kind: "none" }
  | { kind: "truncate"; at: number }
  | { kind: "invalid-utf8"; at: number; bytes: number[] };

const byteMutation: fc.Arbitrary<ByteMutation> = fc.oneof(
  { weight: 3, arbitrary: fc.constant({ kind: "none" as const }) },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant("truncate" as const),
      at: fc.double({ min: 0, max: 1, noNaN: true }),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant("invalid-utf8" as const),
      at: fc.double({ min: 0, max: 1, noNaN: true }),
      // Bytes that are never valid UTF-8 on their own (stray continuation bytes, 0xC0/0xC1, 0xF5..0xFF).
      bytes: fc.array(fc.constantFrom(0x80, 0xbf, 0xc0, 0xc1, 0xf5, 0xfe, 0xff), {
        minLength: 1,
        maxLength: 4,
      }),
    }),
  },
);

function applyByteMutation(body: Buffer, mutation: ByteMutation): Buffer {
  if (mutation.kind === "none") return body;
  const at = Math.floor(mutation.at * body.length);
  if (mutation.kind === "truncate") return body.subarray(0, at);
  return Buffer.concat([body.subarray(0, at), Buffer.from(mutation.bytes), body.subarray(at)]);
}

/** The transport around the body: mostly a 200 JSON answer, sometimes an error status, a wrong type or no answer. */
const envelope = fc.record({
  status: fc.oneof(
    { weight: 6, arbitrary: fc.constant(200) },
    { weight: 2, arbitrary: fc.constantFrom(400, 401, 404, 413, 429, 500, 502, 503) },
  ),
  contentType: fc.oneof(
    { weight: 5, arbitrary: fc.constant("default") },
    { weight: 1, arbitrary: fc.constantFrom("text/html", "text/plain", "application/octet-stream") },
  ),
  destroy: fc.oneof(
    { weight: 12, arbitrary: fc.constant(false) },
    { weight: 1, arbitrary: fc.constant(true) },
  ),
});

/**
 * Content of the answer: short text, unicode, or a huge (bounded) payload. Huge ones are drawn as a
 * size and expanded in the property, so a counterexample prints as `{"hugeBytes":n}`, not megabytes.
 */
const answerText: fc.Arbitrary<string | { hugeBytes: number }> = fc.oneof(
  { weight: 6, arbitrary: fc.string({ maxLength: 40 }) },
  { weight: 2, arbitrary: fc.string({ unit: "grapheme", maxLength: 20 }) },
  { weight: 1, arbitrary: fc.record({ hugeBytes: fc.integer({ min: 100_000, max: MAX_HUGE_BYTES }) }) },
);

function expand(text: string | { hugeBytes: number }): string {
  return typeof text === "string" ? text : "x".repeat(text.hugeBytes);
}

const garbageLine = fc.oneof(
  fc.string({ maxLength: 30 }),
  fc.constantFrom(
    "data: {",
    "data: [DONE]",
    "data: null",
    "data: 42",
    'data: "text"',
    'data: {"choices":null}',
    'data: {"choices":[{"delta":null}]}',
    'data: {"error":{"message":"boom"}}',
    "event: error",
    'event: error\ndata: {"error":"Input does not fit in context length."}',
    ": keep-alive",
    "retry: soon",
    "id: 7",
  ),
);

function scenarioOf(
  env: { status: number; contentType: string; destroy: boolean },
  body: Buffer,
  defaultType: string,
): Scenario {
  return {
    status: env.status,
    contentType: env.contentType === "default" ? defaultType : env.contentType,
    body: env.destroy ? "destroy" : body,
  };
}

// ---- checks ----------------------------------------------------------------------------------------

/** Settled with a valid value (per `isValid`) or a typed error; returns a description when not. */
async function check<T>(work: () => Promise<T>, isValid: (value: T) => boolean): Promise<void> {
  const settled = await settleWithin(work, SETTLE_BOUND_MS);
  if (settled.kind === "hang") throw new Error("hang: the call did not settle");
  if (settled.kind === "value") {
    expect(isValid(settled.value), "a value that is not a valid result").toBe(true);
    tried.ok += 1;
    return;
  }
  const { error } = settled;
  expect(
    isTypedError(error),
    `untyped ${errorName(error)}: ${(error as Error)?.message?.slice(0, 300)}`,
  ).toBe(true);
  tried.typed += 1;
}

const chat = (streaming = false) =>
  new ChatLMStudio({
    baseUrl: server.baseUrl,
    model: MODEL,
    maxRetries: 0,
    timeout: CLIENT_TIMEOUT_MS,
    streaming,
    apiKey: undefined,
  });

/** A counter that never talks to the server (the raw server has no SDK socket). */
const wordCounter: EmbeddingTokenCounter = {
  loadedModel: async (model) => ({ identifier: model, contextLength: 4096 }),
  countTokens: async (_model, texts) => texts.map((text) => text.split(/\s+/).length),
};

describe("malformed LM Studio responses", () => {
  it("ChatLMStudio.invoke settles with a message or a typed error", async () => {
    await fc.assert(
      fc.asyncProperty(envelope, answerText, jsonMutation, byteMutation, async (env, text, json, bytes) => {
        scenario = scenarioOf(
          env,
          applyByteMutation(
            Buffer.from(JSON.stringify(applyJsonMutation(completion(expand(text)), json))),
            bytes,
          ),
          "application/json",
        );
        tried.invoke += 1;
        await check(
          () => chat().invoke("Hello"),
          (message) => AIMessage.isInstance(message),
        );
      }),
      { numRuns: RUNS, seed: 8_001 },
    );
  }, 120_000);

  it("ChatLMStudio.stream settles with chunks or a typed error", async () => {
    await fc.assert(
      fc.asyncProperty(
        envelope,
        answerText,
        fc.array(fc.tuple(fc.nat(), jsonMutation), { maxLength: 3 }),
        fc.array(fc.tuple(fc.nat(), garbageLine), { maxLength: 4 }),
        byteMutation,
        fc.boolean(),
        async (env, text, frameMutations, garbage, bytes, withDone) => {
          const frames = streamFrames(expand(text));
          for (const [index, mutation] of frameMutations) {
            const at = index % frames.length;
            frames[at] = applyJsonMutation(frames[at]!, mutation);
          }
          const lines = frames.map((frame) => `data: ${JSON.stringify(frame)}`);
          for (const [index, line] of garbage) lines.splice(index % (lines.length + 1), 0, line);
          if (withDone) lines.push("data: [DONE]");
          const body = applyByteMutation(Buffer.from(`${lines.join("\n\n")}\n\n`), bytes);
          scenario = scenarioOf(env, body, "text/event-stream");
          tried.stream += 1;
          await check(
            async () => {
              const chunks: AIMessageChunk[] = [];
              for await (const chunk of await chat().stream("Hello")) chunks.push(chunk);
              return chunks;
            },
            (chunks) => chunks.length > 0 && chunks.every((chunk) => AIMessageChunk.isInstance(chunk)),
          );
        },
      ),
      { numRuns: RUNS, seed: 8_002 },
    );
  }, 120_000);

  it("LMStudioEmbeddings settles with one finite vector per input or a typed error", async () => {
    await fc.assert(
      fc.asyncProperty(
        envelope,
        fc.integer({ min: 1, max: 4 }),
        fc.oneof(
          { weight: 8, arbitrary: fc.integer({ min: 1, max: 64 }) },
          { weight: 1, arbitrary: fc.constant(200_000) },
        ),
        jsonMutation,
        byteMutation,
        async (env, count, dimensions, json, bytes) => {
          scenario = scenarioOf(
            env,
            applyByteMutation(
              Buffer.from(JSON.stringify(applyJsonMutation(embeddingList(count, dimensions), json))),
              bytes,
            ),
            "application/json",
          );
          tried.embeddings += 1;
          const inputs = Array.from({ length: count }, (_, i) => `text number ${i}`);
          const model = new LMStudioEmbeddings({
            baseUrl: server.baseUrl,
            model: EMBEDDING_MODEL,
            apiKey: "",
            maxRetries: 0,
            timeout: CLIENT_TIMEOUT_MS,
            tokenCounter: wordCounter,
          });
          await check(
            () => model.embedDocuments(inputs),
            (vectors) =>
              vectors.length === count &&
              vectors.every(
                (vector) =>
                  vector.length === vectors[0]!.length && vector.every((value) => Number.isFinite(value)),
              ),
          );
        },
      ),
      { numRuns: RUNS, seed: 8_003 },
    );
  }, 120_000);
});
