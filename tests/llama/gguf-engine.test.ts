import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  buildTinyLlamaGguf,
  renderTinyChat,
  TINY_ANSWER,
  TINY_CHAT_TEMPLATE,
  TINY_VOCAB_SIZE,
  tinyTokenize,
} from "../../src/testing/gguf-writer.js";
import { tinyModelDir } from "../fixtures/tiny-llama.js";

describe("GGUF writer", () => {
  it("is deterministic and lays out a GGUF v3 header with aligned data", () => {
    const a = buildTinyLlamaGguf({ contextLength: 4096 });
    const b = buildTinyLlamaGguf({ contextLength: 4096 });
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(true);
    expect(Buffer.from(buildTinyLlamaGguf({ contextLength: 8192 })).equals(Buffer.from(a))).toBe(false);
    const view = new DataView(a.buffer, a.byteOffset, a.byteLength);
    expect(new TextDecoder().decode(a.subarray(0, 4))).toBe("GGUF");
    expect(view.getUint32(4, true)).toBe(3);
    // 3 global tensors + 9 per layer (2 layers by default).
    expect(view.getBigUint64(8, true)).toBe(21n);
    expect(a.byteLength % 32).toBe(0);
  });

  it("renderTinyChat is exactly what the embedded Jinja chat template renders", async () => {
    const { Template } = await import("@huggingface/jinja");
    const messages = [
      { role: "system", content: "Be brief." },
      { role: "user", content: "hi there" },
      { role: "assistant", content: "abc" },
      { role: "user", content: "line one\nline two" },
    ];
    expect(renderTinyChat(messages)).toBe(
      new Template(TINY_CHAT_TEMPLATE).render({ messages, add_generation_prompt: true }),
    );
  });

  it("rejects an embedding size the heads cannot split", () => {
    expect(() => buildTinyLlamaGguf({ contextLength: 64, embeddingLength: 66 })).toThrow(/divisible/);
  });
});

// The real engine: node-llama-cpp with its prebuilt CPU binary.
describe("tiny model in llama.cpp", () => {
  const dir = tinyModelDir();
  // biome-ignore lint/suspicious/noExplicitAny: node-llama-cpp is imported dynamically (devDependency); its types are checked where the backend uses them.
  let llama: any;
  let modelPath = "";

  beforeAll(async () => {
    modelPath = await dir.write("tiny.gguf", { contextLength: 4096 });
    const { getLlama, LlamaLogLevel } = await import("node-llama-cpp");
    llama = await getLlama({ gpu: false, build: "never", logLevel: LlamaLogLevel.error });
  });
  afterAll(async () => {
    await llama?.dispose();
    dir.remove();
  });

  it("loads with the declared context, tokenizes one token per byte and greedily answers the alphabet", async () => {
    const model = await llama.loadModel({ modelPath });
    expect(model.trainContextSize).toBe(4096);
    expect(model.fileInfo.metadata.tokenizer.chat_template).toContain("assistant: ");
    const prompt = renderTinyChat([{ role: "user", content: "hi" }]);
    const tokens = model.tokenize(prompt);
    expect([...tokens]).toEqual(tinyTokenize(prompt));
    expect(model.detokenize(tokens)).toBe(prompt);
    expect(model.tokens.bos).toBe(1);
    expect(model.tokens.eos).toBe(2);
    expect(model.fileInfo.metadata.tokenizer.ggml.tokens).toHaveLength(TINY_VOCAB_SIZE);

    const context = await model.createContext({ contextSize: 256, threads: 1 });
    expect(context.contextSize).toBe(256);
    const sequence = context.getSequence();
    const generated: number[] = [];
    let sawEos = false;
    for await (const token of sequence.evaluate([model.tokens.bos, ...tokens], {
      temperature: 0,
      yieldEogToken: true,
    })) {
      if (token === model.tokens.eos) {
        sawEos = true;
        break;
      }
      generated.push(token);
      if (generated.length > 40) break;
    }
    expect(model.detokenize(generated)).toBe(TINY_ANSWER);
    expect(sawEos).toBe(true);
    await context.dispose();
    await model.dispose();
  });

  it("embeds with mean pooling: different texts, different vectors", async () => {
    const path = await dir.write("tiny-embed.gguf", { contextLength: 2048, meanPooling: true });
    const model = await llama.loadModel({ modelPath: path });
    const context = await model.createEmbeddingContext({ contextSize: 256, threads: 1 });
    const a = (await context.getEmbeddingFor("hello world")).vector as readonly number[];
    const b = (await context.getEmbeddingFor("goodbye")).vector as readonly number[];
    expect(a).toHaveLength(64);
    // Mean of RMS-normed hidden states: finite and far from zero.
    expect(a.every(Number.isFinite)).toBe(true);
    expect(Math.hypot(...a)).toBeGreaterThan(0.5);
    expect(a).not.toEqual(b);
    await context.dispose();
    await model.dispose();
  });
});
