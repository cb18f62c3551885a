/**
 * The simulator's llama.cpp backend: models with a `gguf` file run on a real llama.cpp engine through
 * node-llama-cpp. A load creates a real context of the requested size (KV cache and all) and a real
 * failure becomes LM Studio's load error; tokens, prompt counts, decoding and embeddings are the
 * engine's. Decoding is greedy. Tool calls and structured output are not emulated on this backend:
 * the engine's text comes back as it is (a generated model cannot follow a schema).
 *
 * node-llama-cpp is a devDependency of this project, never a dependency of the library: it is
 * imported only when this backend opens its first model, and only its types are imported statically.
 */
import type {
  Llama,
  LlamaContext,
  LlamaContextSequence,
  LlamaEmbeddingContext,
  LlamaModel,
  Token,
} from "node-llama-cpp";
import type { EngineLoadFailure, GenerateHooks, InferenceBackend, ModelEngine } from "./backend.js";
import type { CatalogModel } from "./catalog.js";
import type { ChatTurn, ToolDefinition } from "./chat-template.js";
import type { GenerationRequest, GenerationResult, StreamPiece } from "./generation.js";
import { renderTinyChat } from "./gguf-writer.js";
import { overflowMessage } from "./messages.js";

export interface LlamaBackendOptions {
  /** CPU threads per context. node-llama-cpp's default (≥ 4) is far slower on a 2-core machine. */
  threads: number;
}

type NodeLlamaCpp = typeof import("node-llama-cpp");

async function importNodeLlamaCpp(): Promise<NodeLlamaCpp> {
  try {
    return await import("node-llama-cpp");
  } catch (error) {
    throw new Error(
      'The simulator\'s "llama.cpp" backend needs node-llama-cpp, which is not installed: ' +
        "npm install -D node-llama-cpp@3.22.1 (or use the default scripted backend).",
      { cause: error },
    );
  }
}

/**
 * The prompt the generated models see: the same text their GGUF `tokenizer.chat_template` renders
 * (see TINY_CHAT_TEMPLATE). Offered tools become a leading system message so they count as prompt
 * tokens; images have no representation in a text-only model.
 */
function renderChat(turns: readonly ChatTurn[], tools: readonly ToolDefinition[]): string {
  const messages: Array<{ role: string; content: string }> = [];
  if (tools.length > 0) {
    const lines = tools.map((t) =>
      JSON.stringify({ name: t.name, description: t.description, parameters: t.parameters }),
    );
    messages.push({ role: "system", content: `Tools:\n${lines.join("\n")}` });
  }
  for (const turn of turns) {
    const calls = (turn.toolCalls ?? []).map(
      (c) => `{"name":${JSON.stringify(c.name)},"arguments":${c.arguments}}`,
    );
    messages.push({ role: turn.role, content: [turn.text, ...calls].filter((p) => p !== "").join("\n") });
  }
  return renderTinyChat(messages);
}

/** Detokenizes incrementally; a token that ends inside a UTF-8 character waits for the next one. */
class PieceDecoder {
  readonly tokens: Token[] = [];
  readonly pieces: StreamPiece[] = [];
  text = "";
  private pending = 0;

  constructor(private readonly model: LlamaModel) {}

  push(token: Token): StreamPiece | undefined {
    this.tokens.push(token);
    this.pending += 1;
    const full = this.model.detokenize(this.tokens);
    if (full.endsWith("\uFFFD")) return undefined;
    return this.emit(full);
  }

  /** Whatever is still held back (an incomplete character at the very end). */
  flush(): StreamPiece | undefined {
    return this.pending > 0 ? this.emit(this.model.detokenize(this.tokens)) : undefined;
  }

  private emit(full: string): StreamPiece {
    const piece = { text: full.slice(this.text.length), tokens: this.pending };
    this.pieces.push(piece);
    this.text = full;
    this.pending = 0;
    return piece;
  }
}

class LlamaEngine implements ModelEngine {
  /** Embeddings and disposal run one at a time. */
  private queue: Promise<unknown> = Promise.resolve();
  /**
   * llama.cpp sequences, kept between predictions so a slot's next prompt only evaluates what follows
   * the prefix it already holds. node-llama-cpp never unifies a context's cache: each sequence gets
   * its own contextSize cells. So a per-slot instance runs one real sequence per slot (parallel ×
   * n_ctx cells, as LM Studio allocates it), while a unified instance allocates the one n_ctx pool
   * LM Studio would and its slots take turns on that single sequence; in both cases the simulator's
   * KV pool counts every admitted prediction's cells against n_ctx (DESIGN.md "Simulator backends").
   */
  private readonly sequences = new Map<number, LlamaContextSequence>();
  /** Predictions still decoding, so disposal waits for them. */
  private readonly running = new Set<Promise<unknown>>();

  constructor(
    private readonly model: LlamaModel,
    private readonly context: LlamaContext | undefined,
    private readonly embedding: LlamaEmbeddingContext | undefined,
    /** All slots share sequence 0 (a unified cache). */
    private readonly sharedSequence = false,
  ) {}

  private exclusive<T>(task: () => Promise<T>): Promise<T> {
    const run = this.queue.then(task, task);
    this.queue = run.catch(() => undefined);
    return run;
  }

  tokenize(text: string): number[] {
    return [...this.model.tokenize(text)];
  }

  countTokens(text: string): number {
    return this.model.tokenize(text).length;
  }

  applyChatTemplate(turns: readonly ChatTurn[], tools: readonly ToolDefinition[]): string {
    return renderChat(turns, tools);
  }

  /** The tokens llama.cpp evaluates for a prompt: BOS first when the model asks for it. */
  private promptTokens(prompt: string): Token[] {
    const tokens = this.model.tokenize(prompt);
    const bos = this.model.tokens.bos;
    return this.model.tokens.shouldPrependBosToken && bos !== null ? [bos, ...tokens] : tokens;
  }

  async generate(request: GenerationRequest, hooks: GenerateHooks = {}): Promise<GenerationResult> {
    const context = this.context;
    if (context === undefined) throw new Error("This model is an embedding model and cannot generate text.");
    const prompt = request.rawPrompt ?? renderChat(request.turns, request.tools ?? []);
    const input = this.promptTokens(prompt);
    const promptTokens = input.length;
    if (promptTokens > request.contextLength) {
      const message = overflowMessage(request.dialect, promptTokens, request.contextLength);
      return { kind: "overflow", promptTokens, contextLength: request.contextLength, message };
    }
    // Never past the loaded context: LM Studio stops there rather than shifting the context.
    const limit = Math.min(
      request.contextLength - promptTokens,
      request.maxTokens ?? Number.POSITIVE_INFINITY,
    );
    // The slot is taken (and its cells counted) before waiting for a unified instance's one sequence.
    // Without a caller taking slots (never the case inside the simulator), everything runs in slot 0.
    const placed = hooks.onPrompt ? await hooks.onPrompt(input) : { slot: 0, cachedPromptTokens: 0 };
    const run = this.sharedSequence
      ? this.exclusive(() => this.decode(context, input, limit, placed, hooks))
      : this.decode(context, input, limit, placed, hooks);
    this.running.add(run);
    try {
      return await run;
    } finally {
      this.running.delete(run);
    }
  }

  /** Evaluates the prompt in its slot's sequence (reusing the cached prefix) and decodes greedily. */
  private async decode(
    context: LlamaContext,
    input: Token[],
    limit: number,
    placed: { slot: number; cachedPromptTokens: number },
    hooks: GenerateHooks,
  ): Promise<GenerationResult> {
    const promptTokens = input.length;
    const key = this.sharedSequence ? 0 : placed.slot;
    let sequence = this.sequences.get(key);
    if (sequence === undefined) {
      sequence = context.getSequence();
      this.sequences.set(key, sequence);
    }
    const held = sequence.contextTokens;
    let reuse = 0;
    const most = Math.min(placed.cachedPromptTokens, held.length, input.length - 1);
    while (reuse < most && held[reuse] === input[reuse]) reuse++;
    if (sequence.nextTokenIndex > reuse)
      await sequence.eraseContextTokenRanges([{ start: reuse, end: sequence.nextTokenIndex }]);
    const pieces = new PieceDecoder(this.model);
    let finishReason: "stop" | "length" = "length";
    try {
      if (limit <= 0) {
        await sequence.evaluateWithoutGeneratingNewTokens(input.slice(reuse));
      } else {
        // Greedy: the generated models' answers are exact only under greedy decoding.
        for await (const token of sequence.evaluate(input.slice(reuse), {
          temperature: 0,
          yieldEogToken: true,
        })) {
          if (this.model.isEogToken(token)) {
            finishReason = "stop";
            break;
          }
          const piece = pieces.push(token);
          const more = piece === undefined || (await hooks.onPiece?.(piece, promptTokens)) !== false;
          // The client is gone (or cancelled): stop decoding, as LM Studio does.
          if (!more) {
            finishReason = "stop";
            break;
          }
          if (pieces.tokens.length >= limit) break;
        }
      }
      const tail = pieces.flush();
      if (tail !== undefined) await hooks.onPiece?.(tail, promptTokens);
    } catch (error) {
      // A failed prediction leaves its slot empty, as llama.cpp clears a failed slot's prompt.
      await sequence.clearHistory();
      throw error;
    }
    return {
      kind: "text",
      promptTokens,
      completionTokens: pieces.tokens.length,
      content: pieces.text,
      finishReason,
      pieces: pieces.pieces,
    };
  }

  async embed(text: string): Promise<number[]> {
    const embedding = this.embedding;
    if (embedding === undefined) throw new Error("This model is not an embedding model.");
    return this.exclusive(async () => [...(await embedding.getEmbeddingFor(text)).vector]);
  }

  async dispose(): Promise<void> {
    await Promise.allSettled(this.running);
    await this.exclusive(async () => {
      await this.context?.dispose();
      await this.embedding?.dispose();
    });
  }
}

const ENGINE_DISPOSE_WAIT_MS = 5000;

/** Waits for `work`, but at most `ms`: for teardown steps that must not hold a close forever. */
async function settleWithin(work: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const waited = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, ms);
    timer.unref();
  });
  try {
    await Promise.race([work.then(noop, noop), waited]);
  } finally {
    clearTimeout(timer);
  }
}

function noop(): void {}

/** The llama.cpp backend; the engine binary and each GGUF file are loaded once, on first use. */
export function createLlamaBackend(options: LlamaBackendOptions): InferenceBackend {
  let llama: Promise<Llama> | undefined;
  const models = new Map<string, Promise<LlamaModel>>();
  /** llama.cpp's own error lines (e.g. the buffer it failed to allocate), kept for load failures. */
  const engineErrors: string[] = [];

  const getEngine = (): Promise<Llama> => {
    llama ??= importNodeLlamaCpp().then(({ getLlama, LlamaLogLevel }) =>
      getLlama({
        gpu: false,
        // Prebuilt CPU binaries only: never download or compile at run time.
        build: "never",
        maxThreads: options.threads,
        logLevel: LlamaLogLevel.error,
        logger: (level, message) => {
          if (level !== LlamaLogLevel.error && level !== LlamaLogLevel.fatal) return;
          engineErrors.push(message.trim());
          if (engineErrors.length > 8) engineErrors.shift();
        },
      }),
    );
    return llama;
  };

  const modelFor = async (path: string): Promise<LlamaModel> => {
    let model = models.get(path);
    if (model === undefined) {
      model = getEngine().then((engine) => engine.loadModel({ modelPath: path }));
      models.set(path, model);
      // A file that failed to load is retried on the next load rather than failing forever.
      model.catch(() => models.delete(path));
    }
    return model;
  };

  const failure = (model: CatalogModel, error: unknown): EngineLoadFailure => {
    const reason = error instanceof Error ? error.message : String(error);
    const engineLine = engineErrors.at(-1);
    const detail = engineLine !== undefined && engineLine !== reason ? `${reason} (${engineLine})` : reason;
    return { code: "engineFailure", message: `Failed to load model "${model.key}". Error: ${detail}` };
  };

  return {
    async open(model, contextLength, kvCache) {
      if (model.gguf === undefined) throw new Error(`Model "${model.key}" has no GGUF file`);
      await getEngine();
      engineErrors.length = 0;
      let loaded: LlamaModel;
      try {
        loaded = await modelFor(model.gguf);
      } catch (error) {
        return failure(model, error);
      }
      try {
        if (model.type === "embedding") {
          const embedding = await loaded.createEmbeddingContext({
            contextSize: contextLength,
            threads: options.threads,
          });
          return new LlamaEngine(loaded, undefined, embedding);
        }
        const context = await loaded.createContext({
          contextSize: contextLength,
          threads: options.threads,
          // Per-slot caches: one real sequence (of contextSize cells) per slot; unified: one pool.
          sequences: kvCache.unified === true ? 1 : kvCache.parallel,
        });
        return new LlamaEngine(loaded, context, undefined, kvCache.unified === true);
      } catch (error) {
        return failure(model, error);
      }
    },
    async close() {
      if (llama === undefined) return;
      const engine = await llama.catch(() => undefined);
      llama = undefined;
      models.clear();
      // Disposing the Llama disposes its models and their contexts. Under load node-llama-cpp's
      // dispose has been seen never to settle; the simulator's close must still end, so it waits a
      // bounded time and leaves the rest to process exit.
      if (engine) await settleWithin(engine.dispose(), ENGINE_DISPOSE_WAIT_MS);
    },
  };
}
