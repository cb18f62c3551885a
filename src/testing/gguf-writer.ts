/**
 * A dependency-free GGUF v3 writer and a generator for a tiny llama-architecture model whose greedy
 * output is known in advance, so the simulator's llama.cpp backend can run a real engine on a model
 * the project writes itself (no weights are downloaded).
 *
 * The tiny model: byte-level SPM vocabulary (<unk>, <s>, </s>, <0x00>..<0xFF>, "▁"), every attention
 * and feed-forward weight zero, so each position's hidden state is its token's embedding and the next
 * token depends on the last token only:
 *   letter k ('a'..'y') → letter k+1, 'z' → </s>, any other token → 'a'.
 * The chat template ends with "assistant: " (a space, not a letter), so every chat answer is
 * "abcdefghijklmnopqrstuvwxyz" followed by end of sequence.
 */
import { writeFile } from "node:fs/promises";
import { fnv1a } from "./hash.js";

// ---------------------------------------------------------------------------------------------
// GGUF container

/** GGUF metadata value types (the numbers are the format's). */
const GgufType = {
  uint32: 4,
  int32: 5,
  float32: 6,
  bool: 7,
  string: 8,
  array: 9,
} as const;

const GGML_TYPE_F32 = 0;
const ALIGNMENT = 32;

export type GgufValue =
  | { type: "uint32"; value: number }
  | { type: "int32"; value: number }
  | { type: "float32"; value: number }
  | { type: "bool"; value: boolean }
  | { type: "string"; value: string }
  | { type: "string[]"; value: readonly string[] }
  | { type: "float32[]"; value: readonly number[] }
  | { type: "int32[]"; value: readonly number[] };

export interface GgufTensor {
  name: string;
  /** ggml order: dims[0] is the contiguous (innermost) dimension. */
  dims: readonly number[];
  data: Float32Array;
}

/** Growable little-endian byte buffer. */
class ByteSink {
  private buf = new Uint8Array(1 << 16);
  private view = new DataView(this.buf.buffer);
  length = 0;

  private reserve(n: number): void {
    if (this.length + n <= this.buf.length) return;
    let size = this.buf.length;
    while (size < this.length + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  u32(v: number): void {
    this.reserve(4);
    this.view.setUint32(this.length, v, true);
    this.length += 4;
  }
  i32(v: number): void {
    this.reserve(4);
    this.view.setInt32(this.length, v, true);
    this.length += 4;
  }
  u64(v: number): void {
    this.reserve(8);
    this.view.setBigUint64(this.length, BigInt(v), true);
    this.length += 8;
  }
  f32(v: number): void {
    this.reserve(4);
    this.view.setFloat32(this.length, v, true);
    this.length += 4;
  }
  u8(v: number): void {
    this.reserve(1);
    this.buf[this.length++] = v;
  }
  bytes(b: Uint8Array): void {
    this.reserve(b.length);
    this.buf.set(b, this.length);
    this.length += b.length;
  }
  /** GGUF string: u64 byte length, then UTF-8 bytes (no terminator). */
  str(s: string): void {
    const b = new TextEncoder().encode(s);
    this.u64(b.length);
    this.bytes(b);
  }
  padTo(alignment: number): void {
    while (this.length % alignment !== 0) this.u8(0);
  }
  result(): Uint8Array {
    return this.buf.slice(0, this.length);
  }
}

function writeValue(out: ByteSink, v: GgufValue): void {
  switch (v.type) {
    case "uint32":
      out.u32(GgufType.uint32);
      out.u32(v.value);
      return;
    case "int32":
      out.u32(GgufType.int32);
      out.i32(v.value);
      return;
    case "float32":
      out.u32(GgufType.float32);
      out.f32(v.value);
      return;
    case "bool":
      out.u32(GgufType.bool);
      out.u8(v.value ? 1 : 0);
      return;
    case "string":
      out.u32(GgufType.string);
      out.str(v.value);
      return;
    case "string[]":
      out.u32(GgufType.array);
      out.u32(GgufType.string);
      out.u64(v.value.length);
      for (const s of v.value) out.str(s);
      return;
    case "float32[]":
      out.u32(GgufType.array);
      out.u32(GgufType.float32);
      out.u64(v.value.length);
      for (const x of v.value) out.f32(x);
      return;
    case "int32[]":
      out.u32(GgufType.array);
      out.u32(GgufType.int32);
      out.u64(v.value.length);
      for (const x of v.value) out.i32(x);
      return;
  }
}

/**
 * Serializes a GGUF v3 file: header, metadata (in the given order), tensor infos, then F32 tensor
 * data with every tensor aligned to 32 bytes. Same input → same bytes.
 */
export function encodeGguf(
  metadata: ReadonlyArray<[string, GgufValue]>,
  tensors: readonly GgufTensor[],
): Uint8Array {
  const out = new ByteSink();
  out.bytes(new TextEncoder().encode("GGUF"));
  out.u32(3);
  out.u64(tensors.length);
  out.u64(metadata.length);
  for (const [key, value] of metadata) {
    out.str(key);
    writeValue(out, value);
  }
  let offset = 0;
  for (const t of tensors) {
    const elements = t.dims.reduce((a, b) => a * b, 1);
    if (elements !== t.data.length) {
      throw new Error(
        `Tensor ${t.name}: dims ${t.dims.join("x")} need ${elements} values, got ${t.data.length}`,
      );
    }
    out.str(t.name);
    out.u32(t.dims.length);
    for (const d of t.dims) out.u64(d);
    out.u32(GGML_TYPE_F32);
    out.u64(offset);
    offset += Math.ceil((elements * 4) / ALIGNMENT) * ALIGNMENT;
  }
  out.padTo(ALIGNMENT);
  for (const t of tensors) {
    // Explicit little-endian copy: the data must not depend on the host's byte order.
    for (const x of t.data) out.f32(x);
    out.padTo(ALIGNMENT);
  }
  return out.result();
}

// ---------------------------------------------------------------------------------------------
// The tiny llama model

export const TINY_UNK = 0;
export const TINY_BOS = 1;
export const TINY_EOS = 2;
const BYTE_BASE = 3;
/** SentencePiece's word-boundary marker; a normal token so spaces decode back to spaces. */
const SPACE_TOKEN = 3 + 256;
export const TINY_VOCAB_SIZE = SPACE_TOKEN + 1;

/** What every chat answer of the tiny model is (then end of sequence). */
export const TINY_ANSWER = "abcdefghijklmnopqrstuvwxyz";

/**
 * Plain-text chat template: "role: content\n" per message, then "assistant: ". Plain text on purpose:
 * the vocabulary has no control tokens for ChatML markers. {@link renderTinyChat} mirrors it.
 */
export const TINY_CHAT_TEMPLATE =
  "{% for message in messages %}{{ message['role'] }}: {{ message['content'] }}\n{% endfor %}" +
  "{% if add_generation_prompt %}assistant: {% endif %}";

/** The text {@link TINY_CHAT_TEMPLATE} renders for these messages with add_generation_prompt. */
export function renderTinyChat(messages: ReadonlyArray<{ role: string; content: string }>): string {
  return `${messages.map((m) => `${m.role}: ${m.content}\n`).join("")}assistant: `;
}

export interface TinyLlamaOptions {
  /** llama.context_length: the declared (training) context. */
  contextLength: number;
  /** n_embd (default 64; at least 32). */
  embeddingLength?: number;
  /** Layers (default 2). More layers make the KV cache larger per token. */
  blockCount?: number;
  /** Attention heads (default 4). */
  headCount?: number;
  /** FFN width (default 64). */
  feedForwardLength?: number;
  /** Mean pooling for embedding models (llama.cpp then averages the tokens' hidden states). */
  meanPooling?: boolean;
  name?: string;
}

function vocabulary(): { tokens: string[]; types: number[] } {
  const tokens = ["<unk>", "<s>", "</s>"];
  // llama.cpp token types: 1 normal, 2 unknown, 3 control, 6 byte.
  const types = [2, 3, 3];
  for (let b = 0; b < 256; b++) {
    tokens.push(`<0x${b.toString(16).toUpperCase().padStart(2, "0")}>`);
    types.push(6);
  }
  tokens.push("\u2581");
  types.push(1);
  return { tokens, types };
}

/** Index of the embedding dimension that encodes a token's "class" (letters 0..25, others 26). */
function classDim(token: number): number {
  const byte = token - BYTE_BASE;
  if (byte >= 0x61 && byte <= 0x7a) return byte - 0x61;
  return 26;
}

/**
 * Token embeddings: 1 on the class dimension, plus a ±0.1 signature on dimensions 27.. so that
 * different texts get different embeddings. The output projection reads only the class
 * dimensions, so the signature never changes which token wins.
 */
function tokenEmbeddings(vocab: number, embd: number): Float32Array {
  const data = new Float32Array(vocab * embd);
  for (let t = 0; t < vocab; t++) {
    data[t * embd + classDim(t)] = 1;
    for (let d = 27; d < embd; d++) data[t * embd + d] = fnv1a(`${t}:${d}`) & 1 ? 0.1 : -0.1;
  }
  return data;
}

/** Output logit weight for the successor: after RMS norm the class value is ~6.8, so logits ~27 vs 0. */
const SUCCESSOR_WEIGHT = 4;

function outputProjection(vocab: number, embd: number): Float32Array {
  const data = new Float32Array(vocab * embd);
  const letter = (k: number) => BYTE_BASE + 0x61 + k;
  for (let k = 0; k < 25; k++) data[letter(k + 1) * embd + k] = SUCCESSOR_WEIGHT;
  data[TINY_EOS * embd + 25] = SUCCESSOR_WEIGHT;
  data[letter(0) * embd + 26] = SUCCESSOR_WEIGHT;
  return data;
}

/** The tiny model as GGUF bytes; deterministic for the same options. */
export function buildTinyLlamaGguf(options: TinyLlamaOptions): Uint8Array {
  const embd = options.embeddingLength ?? 64;
  const layers = options.blockCount ?? 2;
  const heads = options.headCount ?? 4;
  const ff = options.feedForwardLength ?? 64;
  if (embd < 32 || embd % heads !== 0)
    throw new Error(`embeddingLength must be ≥ 32 and divisible by headCount`);
  const { tokens, types } = vocabulary();
  const vocab = tokens.length;

  const metadata: Array<[string, GgufValue]> = [
    ["general.architecture", { type: "string", value: "llama" }],
    ["general.name", { type: "string", value: options.name ?? "tiny-successor-llama" }],
    ["general.alignment", { type: "uint32", value: ALIGNMENT }],
    // All tensors are F32.
    ["general.file_type", { type: "uint32", value: 0 }],
    ["llama.context_length", { type: "uint32", value: options.contextLength }],
    ["llama.embedding_length", { type: "uint32", value: embd }],
    ["llama.block_count", { type: "uint32", value: layers }],
    ["llama.feed_forward_length", { type: "uint32", value: ff }],
    ["llama.attention.head_count", { type: "uint32", value: heads }],
    ["llama.attention.head_count_kv", { type: "uint32", value: heads }],
    ["llama.attention.layer_norm_rms_epsilon", { type: "float32", value: 1e-5 }],
    ["llama.rope.dimension_count", { type: "uint32", value: embd / heads }],
    ["llama.rope.freq_base", { type: "float32", value: 10000 }],
    ["llama.vocab_size", { type: "uint32", value: vocab }],
    ...(options.meanPooling
      ? [["llama.pooling_type", { type: "uint32", value: 1 }] as [string, GgufValue]]
      : []),
    ["tokenizer.ggml.model", { type: "string", value: "llama" }],
    ["tokenizer.ggml.tokens", { type: "string[]", value: tokens }],
    ["tokenizer.ggml.scores", { type: "float32[]", value: tokens.map(() => 0) }],
    ["tokenizer.ggml.token_type", { type: "int32[]", value: types }],
    ["tokenizer.ggml.unknown_token_id", { type: "uint32", value: TINY_UNK }],
    ["tokenizer.ggml.bos_token_id", { type: "uint32", value: TINY_BOS }],
    ["tokenizer.ggml.eos_token_id", { type: "uint32", value: TINY_EOS }],
    ["tokenizer.ggml.add_bos_token", { type: "bool", value: true }],
    ["tokenizer.ggml.add_eos_token", { type: "bool", value: false }],
    // No implicit leading space: the text is tokenized exactly as given, one token per byte.
    ["tokenizer.ggml.add_space_prefix", { type: "bool", value: false }],
    ["tokenizer.chat_template", { type: "string", value: TINY_CHAT_TEMPLATE }],
  ];

  const ones = (n: number) => new Float32Array(n).fill(1);
  const zeros = (n: number) => new Float32Array(n);
  const tensors: GgufTensor[] = [
    { name: "token_embd.weight", dims: [embd, vocab], data: tokenEmbeddings(vocab, embd) },
    { name: "output_norm.weight", dims: [embd], data: ones(embd) },
    { name: "output.weight", dims: [embd, vocab], data: outputProjection(vocab, embd) },
  ];
  for (let l = 0; l < layers; l++) {
    const p = `blk.${l}`;
    // Zero attention and FFN: each block adds nothing to the residual stream.
    tensors.push(
      { name: `${p}.attn_norm.weight`, dims: [embd], data: ones(embd) },
      { name: `${p}.attn_q.weight`, dims: [embd, embd], data: zeros(embd * embd) },
      { name: `${p}.attn_k.weight`, dims: [embd, embd], data: zeros(embd * embd) },
      { name: `${p}.attn_v.weight`, dims: [embd, embd], data: zeros(embd * embd) },
      { name: `${p}.attn_output.weight`, dims: [embd, embd], data: zeros(embd * embd) },
      { name: `${p}.ffn_norm.weight`, dims: [embd], data: ones(embd) },
      { name: `${p}.ffn_gate.weight`, dims: [embd, ff], data: zeros(embd * ff) },
      { name: `${p}.ffn_up.weight`, dims: [embd, ff], data: zeros(embd * ff) },
      { name: `${p}.ffn_down.weight`, dims: [ff, embd], data: zeros(ff * embd) },
    );
  }
  return encodeGguf(metadata, tensors);
}

/**
 * The tokens the model's SPM tokenizer gives `text` (without BOS): one byte token per UTF-8 byte,
 * "▁" for a space. Lets tests check the engine's counts independently.
 */
export function tinyTokenize(text: string): number[] {
  const out: number[] = [];
  for (const b of new TextEncoder().encode(text)) out.push(b === 0x20 ? SPACE_TOKEN : BYTE_BASE + b);
  return out;
}

export async function writeTinyLlamaGguf(path: string, options: TinyLlamaOptions): Promise<string> {
  await writeFile(path, buildTinyLlamaGguf(options));
  return path;
}
