import type { AIMessageChunk } from "@langchain/core/messages";
import { concat } from "@langchain/core/utils/stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ChatLMStudio, type ChatLMStudioFields, LMStudioContextOverflowError } from "../../src/index.js";
import {
  type RunningSimulator,
  renderTinyChat,
  startSimulator,
  TINY_ANSWER,
  tinyTokenize,
} from "../../src/testing/index.js";
import { tinyModelDir } from "../fixtures/tiny-llama.js";
import { postJson } from "../simulator/helpers.js";

const LLM = "tiny-llama";
const EMBED = "tiny-embed";
const dir = tinyModelDir();
let sim: RunningSimulator;

beforeAll(async () => {
  sim = await startSimulator({
    backend: "llama.cpp",
    loadTimeScale: 0,
    jitContextLength: 1024,
    models: [
      {
        key: LLM,
        type: "llm",
        maxContextLength: 4096,
        gguf: await dir.write("tiny.gguf", { contextLength: 4096 }),
        architecture: "llama",
        quantization: "F32",
      },
      {
        key: EMBED,
        type: "embedding",
        maxContextLength: 2048,
        embeddingDimensions: 64,
        gguf: await dir.write("tiny-embed.gguf", { contextLength: 2048, meanPooling: true }),
        architecture: "llama",
        quantization: "F32",
      },
    ],
  });
});
afterAll(async () => {
  await sim?.close();
  dir.remove();
});

/** What llama.cpp evaluates for a one-message chat: BOS + one token per byte of the templated prompt. */
function promptTokensFor(user: string): number {
  return 1 + tinyTokenize(renderTinyChat([{ role: "user", content: user }])).length;
}

function model(fields: ChatLMStudioFields = {}) {
  return new ChatLMStudio({ baseUrl: sim.baseUrl, model: LLM, maxRetries: 0, ...fields });
}

describe("ChatLMStudio on the llama.cpp backend", () => {
  it("invoke returns the engine's greedy answer with the real token counts", async () => {
    const message = await model().invoke("hi");
    expect(message.text).toBe(TINY_ANSWER);
    expect(message.usage_metadata).toMatchObject({
      input_tokens: promptTokensFor("hi"),
      output_tokens: TINY_ANSWER.length,
      total_tokens: promptTokensFor("hi") + TINY_ANSWER.length,
    });
    expect(sim.loaded()).toEqual([
      expect.objectContaining({ modelKey: LLM, contextLength: 1024, jit: true }),
    ]);
  });

  it("streams one chunk per decoded token and the usage of the real tokenizer", async () => {
    const chunks: AIMessageChunk[] = [];
    for await (const chunk of await model({ streamUsage: true }).stream("Hello there, tiny model")) {
      chunks.push(chunk);
    }
    const textChunks = chunks.filter((c) => c.text !== "");
    expect(textChunks.map((c) => c.text)).toEqual([...TINY_ANSWER]);
    const whole = chunks.reduce((a, b) => concat(a, b));
    expect(whole.text).toBe(TINY_ANSWER);
    expect(whole.usage_metadata).toMatchObject({
      input_tokens: promptTokensFor("Hello there, tiny model"),
      output_tokens: 26,
    });
  });

  it("a client that vanishes mid-stream stops the decoder; the instance keeps serving", async () => {
    sim.injectFault({ kind: "reset-mid-stream", afterChunks: 3, path: "/v1/chat/completions" });
    const chunks: string[] = [];
    const error = await (async () => {
      for await (const chunk of await model().stream("hi")) chunks.push(chunk.text);
    })().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    expect(chunks.join("")).toBe("abc");
    const again = await model().invoke("hi");
    expect(again.text).toBe(TINY_ANSWER);
  });

  it("max_tokens cuts the decoder: finish_reason length and exactly that many tokens", async () => {
    const res = await postJson(`${sim.baseUrl}/chat/completions`, {
      model: LLM,
      messages: [{ role: "user", content: "hi" }],
      max_tokens: 5,
    });
    expect(res.status).toBe(200);
    expect(res.body.choices[0]).toMatchObject({ finish_reason: "length", message: { content: "abcde" } });
    expect(res.body.usage).toEqual({
      prompt_tokens: promptTokensFor("hi"),
      completion_tokens: 5,
      total_tokens: promptTokensFor("hi") + 5,
    });
  });

  it("raw completions continue the prompt's last letter", async () => {
    const res = await postJson(`${sim.baseUrl}/completions`, { model: LLM, prompt: "count: w" });
    // 'w' → x, y, z, then end of sequence; BOS + 8 bytes of prompt.
    expect(res.body.choices[0]).toMatchObject({ text: "xyz", finish_reason: "stop" });
    expect(res.body.usage).toMatchObject({ prompt_tokens: 9, completion_tokens: 3 });
  });

  it("a prompt longer than the loaded context is LM Studio's overflow error with real counts", async () => {
    const load = await postJson(`${sim.baseUrl.replace(/\/v1$/, "")}/api/v1/models/load`, {
      model: LLM,
      context_length: 64,
    });
    expect(load.status).toBe(200);
    const small = load.body.instance_id as string;
    const text = "x".repeat(100);
    const error = await model({ model: small })
      .invoke(text)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LMStudioContextOverflowError);
    expect((error as Error).message).toContain(`n_keep: ${promptTokensFor(text)}>= n_ctx: 64`);
  });

  it("/v1/embeddings returns the engine's mean-pooled vectors", async () => {
    const res = await postJson(`${sim.baseUrl}/embeddings`, {
      model: EMBED,
      input: ["hello world", "hello world", "goodbye"],
    });
    expect(res.status).toBe(200);
    const [a, b, c] = res.body.data.map((d: { embedding: number[] }) => d.embedding);
    expect(a).toHaveLength(64);
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
    expect(a.every(Number.isFinite)).toBe(true);
  });
});
