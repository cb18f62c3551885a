import { spawn, spawnSync } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AIMessage } from "@langchain/core/messages";
import { PDFDocument } from "pdf-lib";
import { afterEach, describe, expect, it } from "vitest";
import {
  ContextGuard,
  type ContextGuardOptions,
  ContextRegistry,
  createContextGuard,
  ModelBusyError,
  ModelHostError,
  RegistryJournal,
  SdkModelHost,
} from "../../src/context-guard/index.js";
import { freshEntry } from "../../src/context-guard/registry-schema.js";
import { lmStudioSettings } from "../../src/env/env.js";
import {
  ChatLMStudio,
  InvalidEnvironmentError,
  LMStudioContextOverflowError,
  LMStudioEmbeddings,
  LMStudioImageInputError,
  LMStudioInvalidApiKeyError,
  LMStudioMalformedEmbeddingError,
  LMStudioModelNotFoundError,
  LMStudioNoModelLoadedError,
  LMStudioNotEmbeddingModelError,
  LMStudioRequestError,
  LMStudioTimeoutError,
  LMStudioUnreachableError,
} from "../../src/index.js";
import { mapLMStudioError } from "../../src/lmstudio/error-mapping.js";
import { LMStudioVisionNotSupportedError } from "../../src/lmstudio/errors.js";
import { type RunningSimulator, startSimulator } from "../../src/testing/index.js";
import {
  LMStudioVision,
  pdfText,
  pdfToImages,
  readImageBytes,
  toImageContent,
} from "../../src/vision/index.js";
import { FakeHost } from "../context-guard/fake-host.js";
import { closedPort } from "../embeddings/closed-port.js";
import { wordTokenCounter } from "../embeddings/word-token-counter.js";
import { type RawServer, startRawServer } from "./raw-server.js";
import { activeResources, leakedSince, settleWithin } from "./support.js";

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

async function guardFor(server: RunningSimulator, options: ContextGuardOptions = {}): Promise<ContextGuard> {
  dir = await mkdtemp(join(tmpdir(), "issue16-"));
  // These tests are about failures, not untested models: use the declared context without measuring.
  guard = createContextGuard({
    untested: "declared",
    ...options,
    baseUrl: server.baseUrl,
    registryPath: join(dir, "registry.json"),
  });
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

function runScript(script: string, args: string[], boundMs: number, env: Record<string, string> = {}) {
  return new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>(
    (resolve) => {
      const child = spawn(process.execPath, ["--import", "tsx", script, ...args], {
        stdio: ["ignore", "pipe", "pipe"],
        env: { ...process.env, NO_COLOR: "1", ...env },
      });
      let stdout = "";
      let stderr = "";
      child.stdout?.on("data", (chunk: Buffer) => {
        stdout += chunk.toString();
      });
      child.stderr?.on("data", (chunk: Buffer) => {
        stderr += chunk.toString();
      });
      // The bound is a hang detector: a child still running then is killed and reported by its signal.
      const timer = setTimeout(() => child.kill("SIGKILL"), boundMs);
      child.on("close", (code, signal) => {
        clearTimeout(timer);
        resolve({ code, signal, stdout, stderr });
      });
    },
  );
}

const STOP_SCRIPT = join(import.meta.dirname, "fixtures", "stop-mid-session.ts");

describe("16.2 LM Studio stops after a first successful call", () => {
  it("embeddings: the second call is LMStudioUnreachableError at once", async () => {
    sim = await startSimulator({ port: 0, loadTimeScale: 0 });
    const embeddings = new LMStudioEmbeddings({
      baseUrl: sim.baseUrl,
      model: "text-embedding-nomic-embed-text-v1.5",
      timeout: 5000,
      maxRetries: 0,
    });
    expect(await embeddings.embedQuery("hello")).toHaveLength(768);
    await sim.close();
    sim = undefined;
    const outcome = await settleWithin(() => embeddings.embedQuery("hello again"), 15_000);
    expect(outcome.kind).toBe("error");
    expect(outcome.kind === "error" && outcome.error).toBeInstanceOf(LMStudioUnreachableError);
  });

  it("guarded chat: the second call is LMStudioUnreachableError at once", async () => {
    sim = await startSimulator({ port: 0, loadTimeScale: 0 });
    const model = new ChatLMStudio({
      baseUrl: sim.baseUrl,
      model: MODEL,
      maxRetries: 0,
      timeout: 5000,
      // Looks the instance up again on every call, as it does after 10 s in a long session.
      contextGuard: await guardFor(sim, { instanceCheckMs: 0 }),
    });
    expect((await model.invoke("Hello")).text).toBe("You said: Hello");
    await sim.close();
    sim = undefined;
    const outcome = await settleWithin(() => model.invoke("Hello again"), 15_000);
    expect(outcome.kind).toBe("error");
    expect(outcome.kind === "error" && outcome.error).toBeInstanceOf(LMStudioUnreachableError);
  });

  it.each(["embeddings", "guarded-chat"])(
    "%s: a main().catch() script runs its catch and exits non-zero",
    async (target) => {
      const result = await runScript(STOP_SCRIPT, [target], 60_000);
      expect(result.signal).toBeNull();
      expect(result.stdout).toContain("first call ok");
      expect(result.stdout).not.toContain("second call ok");
      expect(result.stderr).toContain("failed: LMStudioUnreachableError");
      expect(result.code).toBe(3);
    },
    70_000,
  );
});

describe("16.3 an SDK socket that never answers", () => {
  it.each(["ws-silent", "ws-no-handshake"] as const)(
    "%s: embeddings end in LMStudioTimeoutError within their timeout",
    async (kind) => {
      sim = await startSimulator({ port: 0, loadTimeScale: 0 });
      sim.injectFault({ kind, times: Infinity });
      const embeddings = new LMStudioEmbeddings({
        baseUrl: sim.baseUrl,
        model: "text-embedding-nomic-embed-text-v1.5",
        timeout: 1000,
        maxRetries: 0,
      });
      const outcome = await settleWithin(() => embeddings.embedQuery("hello"), 20_000);
      expect(outcome.kind).toBe("error");
      const error = outcome.kind === "error" ? outcome.error : undefined;
      expect(error).toBeInstanceOf(LMStudioTimeoutError);
      expect((error as LMStudioTimeoutError).timeoutMs).toBe(1000);
    },
  );

  it.each(["ws-silent", "ws-no-handshake"] as const)(
    "%s: guarded chat ends in LMStudioTimeoutError at the configured connect deadline",
    async (kind) => {
      sim = await startSimulator({ port: 0, loadTimeScale: 0 });
      sim.injectFault({ kind, times: Infinity });
      dir = await mkdtemp(join(tmpdir(), "issue16-"));
      guard = createContextGuard({
        baseUrl: sim.baseUrl,
        registryPath: join(dir, "registry.json"),
        sdkDeadlines: { connectMs: 800 },
      });
      const model = new ChatLMStudio({
        baseUrl: sim.baseUrl,
        model: MODEL,
        maxRetries: 0,
        contextGuard: guard,
      });
      const outcome = await settleWithin(() => model.invoke("Hello"), 20_000);
      expect(outcome.kind).toBe("error");
      const error = outcome.kind === "error" ? outcome.error : undefined;
      expect(error).toBeInstanceOf(LMStudioTimeoutError);
      expect((error as LMStudioTimeoutError).timeoutMs).toBe(800);
      expect(chatRequests(sim)).toBe(0);
    },
  );

  it("a call after the connection, on a socket that went silent, ends at the call deadline", async () => {
    sim = await startSimulator({ port: 0, loadTimeScale: 0 });
    const host = new SdkModelHost({ baseUrl: sim.baseUrl, deadlines: { callMs: 500 } });
    try {
      expect((await host.listDownloaded()).length).toBeGreaterThan(0);
      sim.injectFault({ kind: "latency", ms: 60_000, path: "/system/listDownloadedModels" });
      const outcome = await settleWithin(() => host.listDownloaded(), 10_000);
      expect(outcome.kind).toBe("error");
      const error = outcome.kind === "error" ? outcome.error : undefined;
      expect(error).toBeInstanceOf(ModelHostError);
      expect((error as ModelHostError).kind).toBe("timeout");
      expect((error as ModelHostError).cause).toBeInstanceOf(LMStudioTimeoutError);
    } finally {
      sim.clearFaults();
      await host.close();
    }
  });
});

describe("16.4 a stream that stalls after its headers", () => {
  const chunk = (text: string, finish: string | null = null) =>
    `data: ${JSON.stringify({
      id: "x",
      object: "chat.completion.chunk",
      model: MODEL,
      choices: [{ index: 0, delta: { role: "assistant", content: text }, finish_reason: finish }],
    })}\n\n`;

  /** A server that sends one chunk, then (per `after`) nothing, keep-alive comments, or slow chunks. */
  async function stallingServer(after: "silence" | "keep-alive" | "slow-chunks") {
    raw = await startRawServer((_req, res) => {
      res.writeHead(200, { "content-type": "text/event-stream" });
      res.write(chunk("Hel"));
      if (after === "silence") return;
      let sent = 0;
      const timer = setInterval(() => {
        if (after === "keep-alive") {
          res.write(": keep-alive\n\n");
          return;
        }
        sent++;
        if (sent < 5) res.write(chunk("lo"));
        else {
          res.end(`${chunk("", "stop")}data: [DONE]\n\n`);
          clearInterval(timer);
        }
      }, 300);
      res.on("close", () => clearInterval(timer));
    });
    return raw;
  }

  const modelFor = (server: RawServer, streaming: boolean) =>
    new ChatLMStudio({
      baseUrl: server.baseUrl,
      model: MODEL,
      maxRetries: 0,
      // Only set when true: an explicit `streaming: false` makes core answer `stream()` by invoking.
      ...(streaming ? { streaming } : {}),
      streamIdleTimeout: 1000,
    });

  async function drain(model: ChatLMStudio): Promise<string> {
    let text = "";
    for await (const part of await model.stream("Hello")) text += part.text;
    return text;
  }

  it.each([
    ["silence", "stream"],
    ["silence", "invoke on a streaming model"],
    ["keep-alive", "stream"],
    ["keep-alive", "invoke on a streaming model"],
  ] as const)("%s after the first chunk: %s ends in LMStudioTimeoutError", async (after, how) => {
    const server = await stallingServer(after);
    const model = modelFor(server, how !== "stream");
    const outcome = await settleWithin(
      () => (how === "stream" ? drain(model) : model.invoke("Hello").then((message) => message.text)),
      15_000,
    );
    expect(outcome.kind).toBe("error");
    const error = outcome.kind === "error" ? outcome.error : undefined;
    expect(error).toBeInstanceOf(LMStudioTimeoutError);
    expect((error as LMStudioTimeoutError).timeoutMs).toBe(1000);
  });

  it("a JSON answer (not streamed) that stalls midway ends in LMStudioTimeoutError too", async () => {
    raw = await startRawServer((_req, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.write('{"id":"x","choices":[{"index":0,"message":{"role":"assistant","content":"Hel');
    });
    const model = new ChatLMStudio({
      baseUrl: raw.baseUrl,
      model: MODEL,
      maxRetries: 0,
      streamIdleTimeout: 1000,
    });
    const outcome = await settleWithin(() => model.invoke("Hello"), 15_000);
    expect(outcome.kind).toBe("error");
    const error = outcome.kind === "error" ? outcome.error : undefined;
    expect(error).toBeInstanceOf(LMStudioTimeoutError);
    expect((error as Error).message).toContain("the rest of its answer (it stalled midway) within 1000 ms");
  });

  it("a slow stream that keeps sending is not cut: the bound is between chunks, not in total", async () => {
    const server = await stallingServer("slow-chunks");
    expect(await drain(modelFor(server, false))).toBe("Hellolololo");
  });
});

describe("16.5 device files and FIFOs as image or PDF inputs", () => {
  it.each([
    ["/dev/zero", "toImageContent"],
    ["/dev/zero", "pdfText"],
    ["/dev/urandom", "pdfToImages"],
  ] as const)("%s through %s is refused as not a regular file, without reading it", async (path, how) => {
    const call = (): Promise<unknown> =>
      how === "toImageContent" ? toImageContent(path) : how === "pdfText" ? pdfText(path) : pdfToImages(path);
    const heapBefore = process.memoryUsage().rss;
    const outcome = await settleWithin(call, 10_000);
    expect(outcome.kind).toBe("error");
    const error = outcome.kind === "error" ? outcome.error : undefined;
    expect(error).toBeInstanceOf(LMStudioImageInputError);
    expect((error as LMStudioImageInputError).problem).toBe("unsupported");
    expect((error as Error).message).toContain("a character device, not a regular file");
    // Nothing was read: memory did not grow by anything like the 50 MiB input limit.
    expect(process.memoryUsage().rss - heapBefore).toBeLessThan(50 * 1024 * 1024);
  });

  it("a FIFO with no writer is refused at once, and the process is not left with a blocked open", async () => {
    dir = await mkdtemp(join(tmpdir(), "issue16-fifo-"));
    const fifo = join(dir, "image.png");
    const made = spawnSync("mkfifo", [fifo]).status === 0;
    expect(made).toBe(true);
    const outcome = await settleWithin(() => toImageContent(fifo), 5_000);
    expect(outcome.kind).toBe("error");
    const error = outcome.kind === "error" ? outcome.error : undefined;
    expect(error).toBeInstanceOf(LMStudioImageInputError);
    expect((error as Error).message).toContain("a FIFO (named pipe), not a regular file");
  });

  it("a regular file is still read whole, counting the bytes actually read", async () => {
    dir = await mkdtemp(join(tmpdir(), "issue16-file-"));
    const file = join(dir, "small.bin");
    await writeFile(file, Buffer.alloc(3000, 7));
    expect(Buffer.from(await readImageBytes(file))).toEqual(Buffer.alloc(3000, 7));
    const over = await readImageBytes(file, { maxInputBytes: 2999 }).catch((e: unknown) => e);
    expect(over).toBeInstanceOf(LMStudioImageInputError);
    expect((over as LMStudioImageInputError).problem).toBe("too-large");
  });
});

async function pdfWithPages(count: number): Promise<Uint8Array> {
  const pdf = await PDFDocument.create();
  for (let i = 0; i < count; i++) pdf.addPage([200, 200]);
  return pdf.save();
}

describe("16.14 a PDF declaring thousands of pages", () => {
  it("is refused by pdfToImages and pdfText with the page cap named, before rendering", async () => {
    const bomb = await pdfWithPages(3000);
    const calls: Array<() => Promise<unknown>> = [() => pdfToImages(bomb), () => pdfText(bomb)];
    for (const call of calls) {
      const outcome = await settleWithin(call, 30_000);
      expect(outcome.kind).toBe("error");
      const error = outcome.kind === "error" ? outcome.error : undefined;
      expect(error).toBeInstanceOf(LMStudioImageInputError);
      expect((error as LMStudioImageInputError).problem).toBe("too-large");
      expect((error as Error).message).toContain("3000 pages, over the 200-page limit (maxPages)");
    }
  });

  it("renders chosen pages of a long PDF, and a raised cap admits it", async () => {
    const long = await pdfWithPages(250);
    expect((await pdfToImages(long, { pages: [1, 250], scale: 0.1 })).map(({ page }) => page)).toEqual([
      1, 250,
    ]);
    expect(await pdfText(long, { maxPages: 250 })).toHaveLength(250);
  });
});

describe("issue 13.8 describeDocument with a page that does not exist", () => {
  it("raises a typed error naming the valid range, before anything is sent", async () => {
    sim = await startSimulator({ port: 0, loadTimeScale: 0 });
    const vision = new LMStudioVision({
      model: "qwen2-vl-2b-instruct",
      baseUrl: sim.baseUrl,
      chat: { maxRetries: 0 },
    });
    const error = await vision
      .describeDocument(await pdfWithPages(1), { pages: [99] })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LMStudioImageInputError);
    expect((error as LMStudioImageInputError).problem).toBe("not-found");
    expect((error as Error).message).toBe(
      "Page 99 does not exist: the PDF has 1 page (valid pages: 1 to 1).",
    );
    expect(chatRequests(sim)).toBe(0);
  });
});

describe("16.6 error bodies built against the overflow and not-found parsers", () => {
  it("2 MB bodies repeating a pattern's first anchor are mapped in linear time (a child, bounded)", async () => {
    const result = await runScript(join(import.meta.dirname, "fixtures", "map-hostile-body.ts"), [], 30_000);
    expect(result.signal).toBeNull();
    expect(result.code).toBe(0);
    const lines = result.stdout.trim().split("\n");
    expect(lines.map((line) => line.split(" ")[0])).toEqual([
      "ContextOverflowError", // LMStudioContextOverflowError keeps core's name
      "LMStudioModelNotFoundError",
      "LMStudioRequestError",
      "LMStudioModelNotFoundError",
    ]);
    // Every message is bounded, whatever the body's size (16.11).
    for (const line of lines) expect(Number(line.split(" ")[1])).toBeLessThan(6_000);
  });

  it("still reads both numbers of the 0.3 wording and the model list of the not-found wording", () => {
    const overflow = mapLMStudioError(400, {
      error:
        "Trying to keep the first 5000 tokens when context the overflows. However, the model is loaded with context length of only 4096 tokens, which is not enough.",
    }) as LMStudioContextOverflowError;
    expect(overflow).toBeInstanceOf(LMStudioContextOverflowError);
    expect([overflow.promptTokens, overflow.contextLength, overflow.dialect]).toEqual([
      5000,
      4096,
      "lmstudio-0.3",
    ]);
    const notFound = mapLMStudioError(404, {
      error:
        'Invalid model identifier "nope". Please specify a valid downloaded model (e.g., a-1, b (v2), c).',
    }) as LMStudioModelNotFoundError;
    expect(notFound).toBeInstanceOf(LMStudioModelNotFoundError);
    expect([notFound.model, notFound.availableModels]).toEqual(["nope", ["a-1", "b (v2)", "c"]]);
  });
});

describe("16.11 server text quoted in every typed error is capped", () => {
  const huge = "x".repeat(5_000_000);
  it.each([
    ["overflow", `Context size has been exceeded. ${huge}`, LMStudioContextOverflowError],
    ["no model loaded", `No models loaded. ${huge}`, LMStudioNoModelLoadedError],
    ["not embedding", `Model is not embedding. ${huge}`, LMStudioNotEmbeddingModelError],
    ["vision", `Model does not support images. ${huge}`, LMStudioVisionNotSupportedError],
    ["path not found", `Cannot find a model with path "${huge}"`, LMStudioModelNotFoundError],
    [
      "invalid model",
      `Invalid model identifier "m". Please specify a valid downloaded model (e.g., ${huge}).`,
      LMStudioModelNotFoundError,
    ],
    ["generic", huge, LMStudioRequestError],
  ] as const)("%s: a 5 MB body gives a message under 5,000 characters", (_name, body, Expected) => {
    const error = mapLMStudioError(400, { error: body }, { model: "m" });
    expect(error).toBeInstanceOf(Expected);
    expect(error.message.length).toBeLessThan(5_000);
    expect(error.message).toMatch(/more characters\)/);
  });

  it("a list of 10,000 available models is cut to 20 names", () => {
    const names = Array.from({ length: 10_000 }, (_, i) => `model-${i}`);
    const error = new LMStudioModelNotFoundError("m", names);
    expect(error.message).toContain("model-19 and 9980 more.");
    expect(error.availableModels).toHaveLength(10_000);
  });
});

describe("16.9 streamed deltas without a role", () => {
  it("are the assistant's answer, as in the non-streaming path", async () => {
    raw = await startRawServer((_req, res) => {
      res.writeHead(200, { "content-type": "text/event-stream" });
      const delta = (content: string, finish: string | null = null) =>
        `data: ${JSON.stringify({ id: "x", model: MODEL, choices: [{ index: 0, delta: { content }, finish_reason: finish }] })}\n\n`;
      res.end(`${delta("Hel")}${delta("lo")}${delta("", "stop")}data: [DONE]\n\n`);
    });
    const model = new ChatLMStudio({ baseUrl: raw.baseUrl, model: MODEL, maxRetries: 0 });
    let text = "";
    for await (const chunk of await model.stream("Hi")) text += chunk.text;
    expect(text).toBe("Hello");
    const streamingModel = new ChatLMStudio({
      baseUrl: raw.baseUrl,
      model: MODEL,
      maxRetries: 0,
      streaming: true,
    });
    const answer = await streamingModel.invoke("Hi");
    expect(AIMessage.isInstance(answer)).toBe(true);
    expect(answer.text).toBe("Hello");
  });
});

describe("16.10 secrets in tokens and base URLs", () => {
  const SECRET = "sk-secret-123";
  it.each([
    ["CR/LF", `${SECRET}\r\nX-Injected: 1`],
    ["NUL", `${SECRET}\u0000tail`],
  ])("an API token with %s is refused up front, typed, without echoing it", (_name, token) => {
    const attempts: Array<() => unknown> = [
      () => new ChatLMStudio({ baseUrl: "http://127.0.0.1:1/v1", model: MODEL, apiKey: token }),
      () => new LMStudioEmbeddings({ baseUrl: "http://127.0.0.1:1/v1", model: "e", apiKey: token }),
    ];
    for (const attempt of attempts) {
      let error: unknown;
      try {
        attempt();
      } catch (caught) {
        error = caught;
      }
      expect(error).toBeInstanceOf(LMStudioInvalidApiKeyError);
      expect((error as Error).message).toMatch(/control character \(code (13|0)\) at position 14/);
      expect((error as Error).message).not.toContain(SECRET);
    }
    const env = () => lmStudioSettings({ LM_API_TOKEN: token });
    expect(env).toThrow(InvalidEnvironmentError);
    try {
      env();
    } catch (error) {
      expect((error as InvalidEnvironmentError).problems.map((p) => p.variable)).toEqual(["LM_API_TOKEN"]);
      expect((error as Error).message).not.toContain(SECRET);
    }
  });

  it("user:password@ in the base URL never appears in the guard's unreachable error", async () => {
    const port = await closedPort();
    dir = await mkdtemp(join(tmpdir(), "issue16-"));
    guard = createContextGuard({
      baseUrl: `http://admin:hunter2@127.0.0.1:${port}/v1`,
      registryPath: join(dir, "registry.json"),
      sdkDeadlines: { connectMs: 2000 },
    });
    const error = await guard
      .clampChat({ model: MODEL, messages: [], overflow: "error" })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LMStudioUnreachableError);
    const unreachable = error as LMStudioUnreachableError;
    expect(unreachable.message).toContain(`http://127.0.0.1:${port}/v1`);
    expect(`${unreachable.message} ${unreachable.baseUrl}`).not.toMatch(/admin|hunter2/);
  });
});

const CLI = join(import.meta.dirname, "..", "..", "src", "cli", "main.ts");

describe("16.10 doctor with credentials in LMSTUDIO_BASE_URL", () => {
  it.each([[[]], [["--json"]]])("prints no user:password (args %j)", async (extra) => {
    sim = await startSimulator({ port: 0, loadTimeScale: 0 });
    dir = await mkdtemp(join(tmpdir(), "issue16-doctor-"));
    const result = await runScript(CLI, ["doctor", ...extra], 60_000, {
      LMSTUDIO_BASE_URL: `http://admin:hunter2@127.0.0.1:${sim.port}/v1`,
      LMSTUDIO_GUARD_REGISTRY: join(dir, "registry.json"),
    });
    expect(result.signal).toBeNull();
    expect(result.stdout).toContain(`127.0.0.1:${sim.port}/v1/models`);
    expect(`${result.stdout}${result.stderr}`).not.toMatch(/admin|hunter2/);
  });
});

describe("16.15 smaller points", () => {
  it("LMSTUDIO_MAX_TOKENS of 400 nines is refused, not sent as Infinity", () => {
    expect(() => lmStudioSettings({ LMSTUDIO_MAX_TOKENS: "9".repeat(400) })).toThrow(
      /LMSTUDIO_MAX_TOKENS: must be at most 2147483647/,
    );
    expect(lmStudioSettings({ LMSTUDIO_MAX_TOKENS: "2147483647" }).maxTokens).toBe(2147483647);
  });
});

describe("16.15 a base URL on a port fetch refuses (6666)", () => {
  it("is LMStudioUnreachableError saying no request was sent, at once, for chat and embeddings", async () => {
    const baseUrl = "http://127.0.0.1:6666/v1";
    const chat = await settleWithin(
      () => new ChatLMStudio({ baseUrl, model: MODEL, maxRetries: 6 }).invoke("Hello"),
      10_000,
    );
    const embeddings = await settleWithin(
      () =>
        new LMStudioEmbeddings({
          baseUrl,
          model: "e",
          maxRetries: 6,
          tokenCounter: wordTokenCounter(2048).counter,
        }).embedQuery("Hello"),
      10_000,
    );
    for (const outcome of [chat, embeddings]) {
      expect(outcome.kind).toBe("error");
      const error = outcome.kind === "error" ? outcome.error : undefined;
      expect(error).toBeInstanceOf(LMStudioUnreachableError);
      expect((error as Error).message).toMatch(/refuses to connect to port 6666.*no request was sent/);
    }
  });
});

describe("16.15 registry entries edited by hand", () => {
  const identity = { modelKey: "m", format: "gguf", lmStudioVersion: "fake-1", loadSettings: "{}" };

  it("a testedMax of 2^40 is bounded by the model's declared maximum on read", async () => {
    dir = await mkdtemp(join(tmpdir(), "issue16-registry-"));
    const registry = new ContextRegistry(join(dir, "registry.json"));
    await registry.updateEntry(identity, () => ({
      ...freshEntry(identity, { declaredMax: 32768 }),
      status: "tested",
      testedMax: 2 ** 40,
      usablePromptTokens: 2 ** 40 - 100,
    }));
    const guard = new ContextGuard({ host: new FakeHost([{ key: "m", declared: 32768 }]), registry });
    const limits = await guard.limitsFor("m");
    expect([limits.source, limits.contextLength, limits.promptLimit]).toEqual(["tested", 32768, 32768]);
  });

  it("a __proto__ entry is kept as data through the next write", async () => {
    dir = await mkdtemp(join(tmpdir(), "issue16-registry-"));
    const path = join(dir, "registry.json");
    const registry = new ContextRegistry(path);
    await registry.updateEntry(identity, () => freshEntry(identity, { declaredMax: 4096 }));
    const file = JSON.parse(await readFile(path, "utf8")) as { entries: Record<string, unknown> };
    const text = JSON.stringify(file).replace(
      '"entries":{',
      `"entries":{"__proto__":${JSON.stringify(freshEntry({ ...identity, modelKey: "hand-edited" }, { declaredMax: 2048 }))},`,
    );
    await writeFile(path, text);
    await registry.updateEntry({ ...identity, modelKey: "other" }, () =>
      freshEntry({ ...identity, modelKey: "other" }, { declaredMax: 1024 }),
    );
    const after = JSON.parse(await readFile(path, "utf8")) as { entries: object };
    expect(Object.keys(after.entries).length).toBe(3);
    expect(Object.hasOwn(after.entries, "__proto__")).toBe(true);
    expect((await registry.entries()).map((entry) => entry.modelKey).sort()).toEqual([
      "hand-edited",
      "m",
      "other",
    ]);
  });
});

describe("16.15 releasing SDK connections", () => {
  it("20 guarded chat models and 5 embeddings hold sockets until closed, and none after close()", async () => {
    sim = await startSimulator({ port: 0, loadTimeScale: 0 });
    dir = await mkdtemp(join(tmpdir(), "issue16-close-"));
    // The guard refuses untested models by default: record the chat model as tested.
    const identity = { modelKey: MODEL, format: "gguf", lmStudioVersion: "0.4.21", loadSettings: "{}" };
    await new ContextRegistry(join(dir, "registry.json")).updateEntry(identity, () => ({
      ...freshEntry(identity, { declaredMax: 32768 }),
      status: "tested",
      testedMax: 8192,
      usablePromptTokens: 8000,
    }));
    const baseline = activeResources();
    const models = Array.from(
      { length: 20 },
      () => new ChatLMStudio({ baseUrl: sim!.baseUrl, model: MODEL, maxRetries: 0, contextGuard: true }),
    );
    const embeddings = Array.from(
      { length: 5 },
      () => new LMStudioEmbeddings({ baseUrl: sim!.baseUrl, model: "text-embedding-nomic-embed-text-v1.5" }),
    );
    const previous = process.env.LMSTUDIO_GUARD_REGISTRY;
    process.env.LMSTUDIO_GUARD_REGISTRY = join(dir, "registry.json");
    try {
      for (const model of models) expect((await model.invoke("Hello")).text).toBe("You said: Hello");
      for (const embedder of embeddings) expect(await embedder.embedQuery("Hello")).toHaveLength(768);
    } finally {
      if (previous === undefined) delete process.env.LMSTUDIO_GUARD_REGISTRY;
      else process.env.LMSTUDIO_GUARD_REGISTRY = previous;
    }
    const open = (activeResources().get("TCPSocketWrap") ?? 0) - (baseline.get("TCPSocketWrap") ?? 0);
    expect(open).toBeGreaterThanOrEqual(25);
    await Promise.all([...models.map((model) => model.close()), ...embeddings.map((e) => e.close())]);
    expect(await leakedSince(baseline)).toEqual([]);
  });
});

describe("16.8 two test runs on one model", () => {
  const identity = { modelKey: "m", format: "gguf", lmStudioVersion: "fake-1", loadSettings: "{}" };

  it("a run holds the model from begin to finish, even between loads, against another live process", async () => {
    dir = await mkdtemp(join(tmpdir(), "issue16-busy-"));
    const registry = new ContextRegistry(join(dir, "registry.json"));
    // Another live process whose run is between two loads: holding the model, no probing marker.
    const other = spawn(process.execPath, ["-e", "setTimeout(() => {}, 60000)"], { stdio: "ignore" });
    try {
      const otherPid = other.pid as number;
      await registry.updateEntry(identity, () => ({
        ...freshEntry(identity, { declaredMax: 32768 }),
        status: "testing",
        loads: 4,
        testRun: { pid: otherPid, startedAt: new Date().toISOString() },
      }));
      const second = await new RegistryJournal(registry, identity)
        .begin({ declaredMax: 32768, fresh: false })
        .catch((e: unknown) => e);
      expect(second).toBeInstanceOf(ModelBusyError);
      expect((second as Error).message).toContain(`process ${otherPid}`);
      expect((await registry.find(identity))?.loads).toBe(4);
    } finally {
      other.kill("SIGKILL");
    }
  });

  it("the hold is taken at begin and given back at finish, and a dead holder's hold is taken over", async () => {
    dir = await mkdtemp(join(tmpdir(), "issue16-busy-"));
    const registry = new ContextRegistry(join(dir, "registry.json"));
    await registry.updateEntry(identity, () => ({
      ...freshEntry(identity, { declaredMax: 32768 }),
      testRun: { pid: 2 ** 22 + 12345, startedAt: "2026-01-01T00:00:00.000Z" },
    }));
    const journal = new RegistryJournal(registry, identity);
    await journal.begin({ declaredMax: 32768, fresh: false });
    expect((await registry.find(identity))?.testRun?.pid).toBe(process.pid);
    await journal.finish({ status: "tested", loads: 1, testedMax: 4096 });
    expect((await registry.find(identity))?.testRun).toBeUndefined();
  });
});
