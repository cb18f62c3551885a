import { spawn } from "node:child_process";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { AIMessageChunk } from "@langchain/core/messages";
import { concat } from "@langchain/core/utils/stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ContextRegistry, createContextGuard, ModelHostError } from "../../src/context-guard/index.js";
import type { EmbeddingTokenCounter } from "../../src/index.js";
import {
  ChatLMStudio,
  type ChatLMStudioFields,
  LMStudioContextOverflowError,
  LMStudioEmbeddings,
  LMStudioEmptyResponseError,
  LMStudioInputTooLongError,
  LMStudioMalformedEmbeddingError,
  LMStudioRequestError,
  LMStudioTimeoutError,
  LMStudioUnreachableError,
} from "../../src/index.js";
import {
  type Fault,
  type RunningSimulator,
  type SimulatorOptions,
  startSimulator,
} from "../../src/testing/index.js";
import { closedPort } from "../embeddings/closed-port.js";
import { startRawServer } from "./raw-server.js";
import { errorName, formatTable, isTypedError, leakedSince, type Settled, settleWithin } from "./support.js";

/**
 * The fault matrix: every fault the simulator can inject, against the four ways the library talks to
 * LM Studio. Each cell must end within its bound, as a typed error or a correct retry (counted in the
 * server's request log), give back its sockets and timers, and leave the registry readable.
 */

const CHAT_MODEL = "qwen2.5-7b-instruct";
const EMBEDDING_MODEL = "text-embedding-nomic-embed-text-v1.5";
const PROBE_MODEL = "probe-model";
/** A cell that has not settled by now is reported as "hang" (the library's own timeouts are far shorter). */
const CELL_BOUND_MS = 20_000;
/** Per-attempt timeouts given to the library in every cell. */
const REQUEST_TIMEOUT_MS = 1_000;
const MAX_RETRIES = 2;

const OPERATIONS = ["invoke", "stream", "embeddings", "guard probe"] as const;
type Operation = (typeof OPERATIONS)[number];

interface Target {
  baseUrl: string;
  sim?: RunningSimulator;
  registryPath: string;
}

interface Observed {
  settled: Settled<unknown>;
  /** Requests the server saw for the operation's endpoint. */
  requests: number;
}

interface CellSpec {
  /** Simulator options beyond the suite's defaults; `null` means no server at all (server down). */
  simulator?: SimulatorOptions | null;
  /** Runs once the simulator is up (inject faults, warm up). */
  arrange?: (sim: RunningSimulator) => Promise<void> | void;
  /** Replaces the default operation (raw-server cells). */
  run?: (target: Target) => Promise<Observed>;
  /** Checks what happened; returns the outcome label for the table. */
  expectOutcome: (observed: Observed, target: Target) => Promise<string> | string;
}

type CaseName =
  | "server down"
  | "HTTP 500 (persistent)"
  | "HTTP 503 (once)"
  | "connection reset mid-stream"
  | "HTTP 200 SSE error frame"
  | "silent empty stream"
  | "WebSocket drop mid-load"
  | "model auto-evicted"
  | "slow server beyond timeout"
  | "server stops mid-session"
  | "SDK socket accepts, stays silent"
  | "SDK handshake never completes";

const results = new Map<string, { outcome: string; ms: number; leaks: string[] }>();
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "reliability-matrix-"));
});

afterAll(async () => {
  const rows = [["case", ...OPERATIONS]];
  for (const name of Object.keys(CASES) as CaseName[]) {
    rows.push([
      name,
      ...OPERATIONS.map((operation) => {
        const cell = results.get(`${name}|${operation}`);
        if (!cell) return "not run";
        return `${cell.outcome}, ${cell.ms} ms${cell.leaks.length > 0 ? `, LEAK ${cell.leaks.join(" ")}` : ""}`;
      }),
    ]);
  }
  console.log(`Fault matrix (case × operation → outcome, elapsed)\n${formatTable(rows)}`);
  const cells = [...results.values()];
  const hangs = cells.filter((cell) => cell.outcome.startsWith("hang") || cell.outcome.startsWith("crash"));
  console.log(
    `${cells.length} cells, ${hangs.length} hang/crash, ${cells.filter((c) => c.leaks.length > 0).length} leaking`,
  );
  await rm(dir, { recursive: true, force: true });
});

const chat = (baseUrl: string, fields: ChatLMStudioFields = {}) =>
  new ChatLMStudio({
    baseUrl,
    model: CHAT_MODEL,
    maxRetries: MAX_RETRIES,
    timeout: REQUEST_TIMEOUT_MS,
    apiKey: undefined,
    ...fields,
  });

const embeddings = (baseUrl: string, tokenCounter?: EmbeddingTokenCounter) =>
  new LMStudioEmbeddings({
    baseUrl,
    model: EMBEDDING_MODEL,
    maxRetries: MAX_RETRIES,
    timeout: REQUEST_TIMEOUT_MS,
    apiKey: "",
    ...(tokenCounter ? { tokenCounter } : {}),
  });

/** A counter for servers without the SDK socket: one token per word, a 2048-token context. */
const wordCounter: EmbeddingTokenCounter = {
  loadedModel: async (model) => ({ identifier: model, contextLength: 2048 }),
  countTokens: async (_model, texts) => texts.map((text) => text.split(/\s+/).length),
};

async function gather(stream: AsyncIterable<AIMessageChunk>): Promise<string> {
  let whole: AIMessageChunk | undefined;
  for await (const chunk of stream) whole = whole ? concat(whole, chunk) : chunk;
  return whole?.text ?? "";
}

const LONG_PROMPT = "alpha beta gamma delta ".repeat(200);

function countOf(sim: RunningSimulator | undefined, path: string): number {
  return sim?.requests.filter((request) => request.method === "POST" && request.path === path).length ?? 0;
}

async function defaultRun(operation: Operation, target: Target): Promise<Observed> {
  const { baseUrl, sim } = target;
  switch (operation) {
    case "invoke": {
      const settled = await settleWithin(() => chat(baseUrl).invoke("Hello there"), CELL_BOUND_MS);
      return { settled, requests: countOf(sim, "/v1/chat/completions") };
    }
    case "stream": {
      const settled = await settleWithin(
        async () => gather(await chat(baseUrl).stream("Hello there")),
        CELL_BOUND_MS,
      );
      return { settled, requests: countOf(sim, "/v1/chat/completions") };
    }
    case "embeddings": {
      const settled = await settleWithin(
        () => embeddings(baseUrl).embedDocuments(["first text", "second text"]),
        CELL_BOUND_MS,
      );
      return { settled, requests: countOf(sim, "/v1/embeddings") };
    }
    case "guard probe": {
      const settled = await settleWithin(async () => {
        const guard = createContextGuard({ baseUrl, registryPath: target.registryPath });
        try {
          return await guard.test(PROBE_MODEL, {
            seed: 3,
            maxLoads: 3,
            identifierPrefix: "probe",
            probe: { loadTimeoutMs: REQUEST_TIMEOUT_MS, respondTimeoutMs: 5_000 },
          });
        } finally {
          await guard.close();
        }
      }, CELL_BOUND_MS);
      return { settled, requests: sim?.loaded().length ?? 0 };
    }
  }
}

/** The common labels: "ok", "typed <Name>", "hang", "crash <Name>" (an untyped error). */
function label(observed: Observed): string {
  const { settled } = observed;
  if (settled.kind === "hang") return "hang";
  if (settled.kind === "value") return "ok";
  return isTypedError(settled.error)
    ? `typed ${errorName(settled.error)}`
    : `crash ${errorName(settled.error)}`;
}

function expectError<T>(observed: Observed, type: abstract new (...args: never[]) => T): T {
  const { settled } = observed;
  expect(settled.kind, label(observed)).toBe("error");
  const error = (settled as { error: unknown }).error;
  expect(error, `${errorName(error)}: ${(error as Error)?.message}`).toBeInstanceOf(type);
  return error as T;
}

function expectValue(observed: Observed): unknown {
  const { settled } = observed;
  const detail =
    settled.kind === "error" ? `${errorName(settled.error)}: ${(settled.error as Error)?.message}` : "";
  expect(settled.kind, `${label(observed)} ${detail}`).toBe("value");
  return (settled as { value: unknown }).value;
}

interface SearchLike {
  status: string;
  testedMax?: number;
  probes: Array<{ failureKind?: string; contextLength: number }>;
}

/** A finished search whose probe log shows `failureKind` (or no failure at all). */
function expectSearch(observed: Observed, failureKind?: string): string {
  const result = expectValue(observed) as SearchLike;
  expect(["tested", "incomplete", "failed"]).toContain(result.status);
  const kinds = result.probes.map((probe) => probe.failureKind).filter(Boolean);
  if (failureKind) expect(kinds).toContain(failureKind);
  else expect(kinds).toEqual([]);
  return `${failureKind ? `recorded ${failureKind}, ` : ""}${result.status} at ${result.testedMax ?? "-"}`;
}

const guardUnaffected: CellSpec = {
  expectOutcome: (observed) => `${expectSearch(observed)} (not its transport)`,
};

/** Half a JSON body, then the socket is destroyed: a connection reset in the middle of an answer. */
async function cutOffRun(
  operation: "embeddings",
  target: Target,
  respond: "truncate" | "empty",
): Promise<Observed> {
  const server = await startRawServer((_req, res) => {
    res.writeHead(200, { "content-type": "application/json" });
    if (respond === "empty") {
      res.end();
      return;
    }
    res.write('{"object":"list","data":[{"object":"embedding","index":0,"embedding":[0.1,0.2');
    setTimeout(() => res.socket?.destroy(), 20);
  });
  try {
    const settled = await settleWithin(
      () => embeddings(server.baseUrl, wordCounter).embedDocuments(["first text"]),
      CELL_BOUND_MS,
    );
    return { settled, requests: server.hits.filter((hit) => hit === "/v1/embeddings").length };
  } finally {
    await server.close();
    void operation;
    void target;
  }
}

/** SDK deadlines for the cells whose fault is on the SDK socket: short, so the cells stay quick. */
const SDK_DEADLINES = { connectMs: REQUEST_TIMEOUT_MS, callMs: REQUEST_TIMEOUT_MS, loadMs: 5_000 };

/**
 * The SDK-side operations of a session: guarded chat (invoke, stream), embeddings (whose token
 * counter talks over the SDK socket) and a guard probe. `between` runs after one successful call of
 * the operation (null: no call first); then the operation runs again and is observed.
 */
async function sdkSessionRun(
  operation: Operation,
  target: Target,
  between: ((sim: RunningSimulator) => Promise<void> | void) | null,
): Promise<Observed> {
  const { baseUrl, sim, registryPath } = target;
  // The model is untested here: use its declared maximum (the guard refuses untested models by default).
  const guard = createContextGuard({
    baseUrl,
    registryPath,
    sdkDeadlines: SDK_DEADLINES,
    untested: "declared",
    onWarning: () => {},
  });
  const embedder = embeddings(baseUrl);
  const guarded = chat(baseUrl, { contextGuard: guard });
  const once: () => Promise<unknown> =
    operation === "invoke"
      ? () => guarded.invoke("Hello there")
      : operation === "stream"
        ? async () => gather(await guarded.stream("Hello there"))
        : operation === "embeddings"
          ? () => embedder.embedDocuments(["first text", "second text"])
          : () =>
              guard.test(PROBE_MODEL, {
                seed: 3,
                maxLoads: 2,
                identifierPrefix: "probe",
                probe: { loadTimeoutMs: REQUEST_TIMEOUT_MS, respondTimeoutMs: 5_000 },
              });
  try {
    if (between && sim) {
      await once();
      await between(sim);
    }
    const settled = await settleWithin(once, CELL_BOUND_MS);
    return { settled, requests: countOf(sim, "/v1/chat/completions") };
  } finally {
    await Promise.all([guard.close(), embedder.close()]);
  }
}

/** Ends bounded and typed; `types` are the acceptable error classes for the operation. */
function sdkFailureCell(
  operation: Operation,
  between: ((sim: RunningSimulator) => Promise<void> | void) | null,
  arrange?: (sim: RunningSimulator) => void,
): CellSpec {
  return {
    ...(arrange ? { arrange } : {}),
    run: (target) => sdkSessionRun(operation, target, between),
    expectOutcome: (o) => {
      const { settled } = o;
      // A search records a lost server as its probes' failure and ends; no marker is left (runCell checks).
      if (operation === "guard probe" && settled.kind === "value") return expectSearch(o, "disconnect");
      expect(settled.kind, label(o)).toBe("error");
      const error = (settled as { error: unknown }).error;
      expect(isTypedError(error), `${errorName(error)}: ${(error as Error)?.message}`).toBe(true);
      if (operation !== "guard probe") {
        expect([LMStudioUnreachableError, LMStudioTimeoutError].some((type) => error instanceof type)).toBe(
          true,
        );
        // The guard failed before anything was sent over HTTP: no chat request after the warm-up.
        if (between === null) expect(o.requests).toBe(0);
      }
      return `${operation === "invoke" || operation === "stream" ? "guarded: " : ""}${label(o)}`;
    },
  };
}

const silentSocket = (kind: "ws-silent" | "ws-no-handshake") => (sim: RunningSimulator) =>
  sim.injectFault({ kind, times: Number.POSITIVE_INFINITY });

/** Nothing listens on the port: fail at once, without retries, saying how to start LM Studio. */
const unreachableCell: CellSpec = {
  simulator: null,
  expectOutcome: (o) => {
    expectError(o, LMStudioUnreachableError);
    return label(o);
  },
};

const persistent500: Fault = { kind: "status", status: 500, times: Number.POSITIVE_INFINITY };

const CASES: Record<CaseName, Record<Operation, CellSpec>> = {
  "server down": {
    invoke: unreachableCell,
    stream: unreachableCell,
    embeddings: unreachableCell,
    "guard probe": {
      simulator: null,
      expectOutcome: (o) => {
        expect(isTypedError((o.settled as { error?: unknown }).error)).toBe(true);
        expect(o.settled.kind).toBe("error");
        return label(o);
      },
    },
  },
  "HTTP 500 (persistent)": {
    invoke: {
      arrange: (sim) => sim.injectFault({ ...persistent500, path: "/v1/chat/completions" }),
      expectOutcome: (o) => {
        expect(expectError(o, LMStudioRequestError).status).toBe(500);
        expect(o.requests).toBe(1 + MAX_RETRIES);
        return `${label(o)} after ${o.requests} attempts`;
      },
    },
    stream: {
      arrange: (sim) => sim.injectFault({ ...persistent500, path: "/v1/chat/completions" }),
      expectOutcome: (o) => {
        expect(expectError(o, LMStudioRequestError).status).toBe(500);
        expect(o.requests).toBe(1 + MAX_RETRIES);
        return `${label(o)} after ${o.requests} attempts`;
      },
    },
    embeddings: {
      arrange: (sim) => sim.injectFault({ ...persistent500, path: "/v1/embeddings" }),
      expectOutcome: (o) => {
        expect(expectError(o, LMStudioRequestError).status).toBe(500);
        expect(o.requests).toBe(1 + MAX_RETRIES);
        return `${label(o)} after ${o.requests} attempts`;
      },
    },
    "guard probe": {
      ...guardUnaffected,
      arrange: (sim) => sim.injectFault({ ...persistent500, path: "/v1" }),
    },
  },
  "HTTP 503 (once)": {
    invoke: {
      arrange: (sim) => sim.injectFault({ kind: "status", status: 503, path: "/v1/chat/completions" }),
      expectOutcome: (o) => {
        expect(expectValue(o)).toMatchObject({ text: "You said: Hello there" });
        expect(o.requests).toBe(2);
        return `retried, ok after ${o.requests} attempts`;
      },
    },
    stream: {
      arrange: (sim) => sim.injectFault({ kind: "status", status: 503, path: "/v1/chat/completions" }),
      expectOutcome: (o) => {
        expect(expectValue(o)).toBe("You said: Hello there");
        expect(o.requests).toBe(2);
        return `retried, ok after ${o.requests} attempts`;
      },
    },
    embeddings: {
      arrange: (sim) => sim.injectFault({ kind: "status", status: 503, path: "/v1/embeddings" }),
      expectOutcome: (o) => {
        expect((expectValue(o) as number[][]).map((v) => v.length)).toEqual([768, 768]);
        expect(o.requests).toBe(2);
        return `retried, ok after ${o.requests} attempts`;
      },
    },
    "guard probe": {
      ...guardUnaffected,
      arrange: (sim) => sim.injectFault({ kind: "status", status: 503, path: "/v1" }),
    },
  },
  "connection reset mid-stream": {
    // invoke here is `invoke` on a `streaming: true` model: the fault cuts an SSE stream.
    invoke: {
      arrange: (sim) => sim.injectFault({ kind: "reset-mid-stream", afterChunks: 2 }),
      run: async ({ baseUrl, sim }) => ({
        settled: await settleWithin(
          () => chat(baseUrl, { streaming: true }).invoke("Hello there"),
          CELL_BOUND_MS,
        ),
        requests: countOf(sim, "/v1/chat/completions"),
      }),
      expectOutcome: (o) => {
        expectError(o, LMStudioRequestError);
        return `${label(o)} (streaming invoke)`;
      },
    },
    stream: {
      arrange: (sim) => sim.injectFault({ kind: "reset-mid-stream", afterChunks: 2 }),
      expectOutcome: (o) => {
        expectError(o, LMStudioRequestError);
        // Chunks already reached the caller, so the stream is not silently restarted.
        expect(o.requests).toBe(1);
        return label(o);
      },
    },
    embeddings: {
      run: (target) => cutOffRun("embeddings", target, "truncate"),
      expectOutcome: (o) => {
        expectError(o, LMStudioRequestError);
        expect(o.requests).toBe(1 + MAX_RETRIES);
        return `${label(o)} after ${o.requests} attempts (raw server)`;
      },
    },
    "guard probe": {
      ...guardUnaffected,
      arrange: (sim) => sim.injectFault({ kind: "reset-mid-stream", afterChunks: 1, times: 5 }),
    },
  },
  "HTTP 200 SSE error frame": {
    // LM Studio 0.4.21 reports a streamed overflow as HTTP 200 with an `event: error` frame.
    invoke: {
      simulator: { lmStudioVersion: "0.4.21", jitContextLength: 256 },
      run: async ({ baseUrl, sim }) => ({
        settled: await settleWithin(
          () => chat(baseUrl, { streaming: true }).invoke(LONG_PROMPT),
          CELL_BOUND_MS,
        ),
        requests: countOf(sim, "/v1/chat/completions"),
      }),
      expectOutcome: (o) => {
        expectError(o, LMStudioContextOverflowError);
        expect(o.requests).toBe(1);
        return `${label(o)} (streaming invoke)`;
      },
    },
    stream: {
      simulator: { lmStudioVersion: "0.4.21", jitContextLength: 256 },
      run: async ({ baseUrl, sim }) => ({
        settled: await settleWithin(
          async () => gather(await chat(baseUrl).stream(LONG_PROMPT)),
          CELL_BOUND_MS,
        ),
        requests: countOf(sim, "/v1/chat/completions"),
      }),
      expectOutcome: (o) => {
        const error = expectError(o, LMStudioContextOverflowError);
        expect(error.dialect).toBe("lmstudio-0.4.21-stream");
        expect(o.requests).toBe(1);
        return label(o);
      },
    },
    embeddings: {
      // The embeddings analogue of an overflow: refused before sending, never silently truncated.
      simulator: { lmStudioVersion: "0.4.21", preload: [{ key: EMBEDDING_MODEL, contextLength: 64 }] },
      run: async ({ baseUrl, sim }) => ({
        settled: await settleWithin(() => embeddings(baseUrl).embedDocuments([LONG_PROMPT]), CELL_BOUND_MS),
        requests: countOf(sim, "/v1/embeddings"),
      }),
      expectOutcome: (o) => {
        expectError(o, LMStudioInputTooLongError);
        expect(o.requests).toBe(0);
        return `${label(o)} before sending`;
      },
    },
    "guard probe": { ...guardUnaffected, simulator: { lmStudioVersion: "0.4.21" } },
  },
  "silent empty stream": {
    invoke: {
      arrange: (sim) => sim.injectFault({ kind: "empty-stream", times: Number.POSITIVE_INFINITY }),
      run: async ({ baseUrl, sim }) => ({
        settled: await settleWithin(
          () => chat(baseUrl, { streaming: true }).invoke("Hello there"),
          CELL_BOUND_MS,
        ),
        requests: countOf(sim, "/v1/chat/completions"),
      }),
      expectOutcome: (o) => {
        expectError(o, LMStudioEmptyResponseError);
        return `${label(o)} (streaming invoke)`;
      },
    },
    stream: {
      arrange: (sim) => sim.injectFault({ kind: "empty-stream", times: Number.POSITIVE_INFINITY }),
      expectOutcome: (o) => {
        expectError(o, LMStudioEmptyResponseError);
        return label(o);
      },
    },
    embeddings: {
      run: (target) => cutOffRun("embeddings", target, "empty"),
      expectOutcome: (o) => {
        expectError(o, LMStudioMalformedEmbeddingError);
        expect(o.requests).toBe(1);
        return `${label(o)} (raw server, empty 200)`;
      },
    },
    "guard probe": {
      ...guardUnaffected,
      arrange: (sim) => sim.injectFault({ kind: "empty-stream", times: Number.POSITIVE_INFINITY }),
    },
  },
  "WebSocket drop mid-load": {
    // Chat goes through a context guard here, which loads the model over the SDK socket.
    invoke: {
      arrange: (sim) => sim.injectFault({ kind: "ws-drop-mid-load" }),
      run: async ({ baseUrl, sim, registryPath }) => {
        // The model is untested here: use its declared maximum (the guard refuses untested models by default).
        const guard = createContextGuard({
          baseUrl,
          registryPath,
          untested: "declared",
          onWarning: () => {},
        });
        try {
          return {
            settled: await settleWithin(
              () => chat(baseUrl, { contextGuard: guard }).invoke("Hello there"),
              CELL_BOUND_MS,
            ),
            requests: countOf(sim, "/v1/chat/completions"),
          };
        } finally {
          await guard.close();
        }
      },
      expectOutcome: (o) => {
        expect(expectValue(o)).toMatchObject({ text: "You said: Hello there" });
        expect(o.requests).toBe(1);
        return "load retried, ok (guarded invoke)";
      },
    },
    stream: {
      arrange: (sim) => sim.injectFault({ kind: "ws-drop-mid-load" }),
      expectOutcome: (o) => {
        expectValue(o);
        return "ok (JIT load is not on the socket)";
      },
    },
    embeddings: {
      // The token counter loads the embedding model over the SDK socket.
      arrange: (sim) => sim.injectFault({ kind: "ws-drop-mid-load" }),
      expectOutcome: (o) => label(o),
    },
    "guard probe": {
      arrange: (sim) => sim.injectFault({ kind: "ws-drop-mid-load" }),
      expectOutcome: (o, { sim }) => {
        const outcome = expectSearch(o, "disconnect");
        expect(sim?.loaded().filter((i) => i.modelKey === PROBE_MODEL)).toEqual([]);
        return outcome;
      },
    },
  },
  "model auto-evicted": {
    invoke: {
      run: async ({ baseUrl, sim }) => {
        const settled = await settleWithin(async () => {
          const model = chat(baseUrl);
          await model.invoke("first");
          sim!.injectFault({ kind: "evict", identifier: CHAT_MODEL, path: "/v1/chat/completions" });
          return model.invoke("Hello there");
        }, CELL_BOUND_MS);
        return { settled, requests: countOf(sim, "/v1/chat/completions") };
      },
      expectOutcome: (o, { sim }) => {
        expect(expectValue(o)).toMatchObject({ text: "You said: Hello there" });
        expect(o.requests).toBe(2);
        expect(sim?.loaded().map((i) => i.identifier)).toContain(CHAT_MODEL);
        return "ok, JIT reloaded";
      },
    },
    stream: {
      run: async ({ baseUrl, sim }) => {
        const settled = await settleWithin(async () => {
          const model = chat(baseUrl);
          await gather(await model.stream("first"));
          sim!.injectFault({ kind: "evict", identifier: CHAT_MODEL, path: "/v1/chat/completions" });
          return gather(await model.stream("Hello there"));
        }, CELL_BOUND_MS);
        return { settled, requests: countOf(sim, "/v1/chat/completions") };
      },
      expectOutcome: (o) => {
        expect(expectValue(o)).toBe("You said: Hello there");
        expect(o.requests).toBe(2);
        return "ok, JIT reloaded";
      },
    },
    embeddings: {
      run: async ({ baseUrl, sim }) => {
        const settled = await settleWithin(async () => {
          const model = embeddings(baseUrl);
          const first = await model.embedQuery("first text");
          sim!.injectFault({ kind: "evict", identifier: EMBEDDING_MODEL, path: "/v1/embeddings" });
          const second = await model.embedQuery("first text");
          return { first, second };
        }, CELL_BOUND_MS);
        return { settled, requests: countOf(sim, "/v1/embeddings") };
      },
      expectOutcome: (o) => {
        const { first, second } = expectValue(o) as { first: number[]; second: number[] };
        expect(second).toEqual(first);
        expect(o.requests).toBe(2);
        return "ok, same vector after reload";
      },
    },
    "guard probe": {
      arrange: (sim) => sim.injectFault({ kind: "evict", identifier: "probe-4096", path: "/llm/predict" }),
      expectOutcome: (o) => expectSearch(o, "crash"),
    },
  },
  "slow server beyond timeout": {
    invoke: {
      arrange: (sim) =>
        sim.injectFault({
          kind: "latency",
          ms: 1_500,
          path: "/v1/chat/completions",
          times: Number.POSITIVE_INFINITY,
        }),
      run: async ({ baseUrl, sim }) => ({
        settled: await settleWithin(
          () => chat(baseUrl, { timeout: 300 }).invoke("Hello there"),
          CELL_BOUND_MS,
        ),
        requests: countOf(sim, "/v1/chat/completions"),
      }),
      expectOutcome: (o) => {
        const { settled } = o;
        expect(settled.kind).toBe("error");
        expect(isTypedError((settled as { error: unknown }).error)).toBe(true);
        return `${label(o)} after ${o.requests} attempts`;
      },
    },
    stream: {
      arrange: (sim) =>
        sim.injectFault({
          kind: "latency",
          ms: 1_500,
          path: "/v1/chat/completions",
          times: Number.POSITIVE_INFINITY,
        }),
      run: async ({ baseUrl, sim }) => ({
        settled: await settleWithin(
          async () => gather(await chat(baseUrl, { timeout: 300 }).stream("Hello there")),
          CELL_BOUND_MS,
        ),
        requests: countOf(sim, "/v1/chat/completions"),
      }),
      expectOutcome: (o) => {
        const { settled } = o;
        expect(settled.kind).toBe("error");
        expect(isTypedError((settled as { error: unknown }).error)).toBe(true);
        return `${label(o)} after ${o.requests} attempts`;
      },
    },
    embeddings: {
      arrange: (sim) =>
        sim.injectFault({
          kind: "latency",
          ms: 1_500,
          path: "/v1/embeddings",
          times: Number.POSITIVE_INFINITY,
        }),
      expectOutcome: (o) => {
        expectError(o, LMStudioRequestError);
        expect(o.requests).toBe(1 + MAX_RETRIES);
        return `${label(o)} after ${o.requests} attempts`;
      },
    },
    "guard probe": {
      arrange: (sim) =>
        sim.injectFault({
          kind: "latency",
          ms: 1_500,
          path: "/llm/loadModel",
          times: Number.POSITIVE_INFINITY,
        }),
      expectOutcome: (o) => expectSearch(o, "timeout"),
    },
  },
  // One successful call, then LM Studio stops; the next call must end typed, not hang (issue 16.2).
  "server stops mid-session": {
    invoke: sdkFailureCell("invoke", (sim) => sim.close()),
    stream: sdkFailureCell("stream", (sim) => sim.close()),
    embeddings: sdkFailureCell("embeddings", (sim) => sim.close()),
    "guard probe": sdkFailureCell("guard probe", (sim) => sim.close()),
  },
  // The SDK WebSocket opens and then never answers, or never finishes its handshake (issue 16.3).
  "SDK socket accepts, stays silent": {
    invoke: sdkFailureCell("invoke", null, silentSocket("ws-silent")),
    stream: sdkFailureCell("stream", null, silentSocket("ws-silent")),
    embeddings: sdkFailureCell("embeddings", null, silentSocket("ws-silent")),
    "guard probe": sdkFailureCell("guard probe", null, silentSocket("ws-silent")),
  },
  "SDK handshake never completes": {
    invoke: sdkFailureCell("invoke", null, silentSocket("ws-no-handshake")),
    stream: sdkFailureCell("stream", null, silentSocket("ws-no-handshake")),
    embeddings: sdkFailureCell("embeddings", null, silentSocket("ws-no-handshake")),
    "guard probe": sdkFailureCell("guard probe", null, silentSocket("ws-no-handshake")),
  },
};

async function runCell(name: CaseName, operation: Operation): Promise<void> {
  const spec = CASES[name][operation];
  const registryPath = join(dir, `${name.replace(/\W+/g, "-")}-${operation.replace(/\W+/g, "-")}.json`);
  const baseline = new Map<string, number>();
  for (const type of process.getActiveResourcesInfo()) baseline.set(type, (baseline.get(type) ?? 0) + 1);

  let sim: RunningSimulator | undefined;
  let baseUrl: string;
  if (spec.simulator === null) baseUrl = `http://127.0.0.1:${await closedPort()}/v1`;
  else {
    sim = await startSimulator({
      port: 0,
      loadTimeScale: 0,
      models: [
        { key: CHAT_MODEL, type: "llm", maxContextLength: 32768, trainedForToolUse: true },
        { key: EMBEDDING_MODEL, type: "embedding", maxContextLength: 2048, embeddingDimensions: 768 },
        { key: PROBE_MODEL, type: "llm", maxContextLength: 16384 },
      ],
      ...spec.simulator,
    });
    baseUrl = sim.baseUrl;
  }
  const target: Target = { baseUrl, registryPath, ...(sim ? { sim } : {}) };
  let outcome = "crash (cell did not finish)";
  let ms = 0;
  try {
    if (sim) await spec.arrange?.(sim);
    const observed = spec.run ? await spec.run(target) : await defaultRun(operation, target);
    ms = observed.settled.ms;
    outcome = label(observed);
    if (observed.settled.kind !== "hang" && !outcome.startsWith("crash"))
      outcome = await spec.expectOutcome(observed, target);
    expect(outcome).not.toMatch(/^(hang|crash)/);
  } finally {
    await sim?.close();
    const leaks = await leakedSince(baseline);
    results.set(`${name}|${operation}`, { outcome, ms, leaks });
  }
  expect(results.get(`${name}|${operation}`)?.leaks).toEqual([]);

  // The registry is readable afterwards, whatever happened, and no run left a live "probing" marker.
  const registry = new ContextRegistry(registryPath);
  const health = await registry.health();
  expect(health.exists ? health.valid : true, health.problem).toBe(true);
  for (const entry of await registry.entries()) expect(entry.probing).toBeUndefined();
  expect((await readdir(dir)).every((file) => !file.includes(".corrupt-"))).toBe(true);
}

/** Runs the CLI as a user would (tsx, its own process); a child still running after `boundMs` is a hang. */
function runCli(args: string[], env: Record<string, string>, boundMs: number) {
  const main = join(import.meta.dirname, "..", "..", "src", "cli", "main.ts");
  return new Promise<{ code: number | null; signal: string | null; output: string; ms: number }>(
    (resolve) => {
      const started = performance.now();
      const child = spawn(process.execPath, ["--import", "tsx", main, ...args], {
        env: { ...process.env, NO_COLOR: "1", ...env },
        stdio: ["ignore", "pipe", "pipe"],
      });
      let output = "";
      child.stdout.on("data", (chunk: Buffer) => {
        output += chunk.toString();
      });
      child.stderr.on("data", (chunk: Buffer) => {
        output += chunk.toString();
      });
      const timer = setTimeout(() => child.kill("SIGKILL"), boundMs);
      child.on("close", (code, signal) => {
        clearTimeout(timer);
        resolve({ code, signal, output, ms: Math.round(performance.now() - started) });
      });
    },
  );
}

const CLI_COMMANDS = [["status"], ["doctor"], ["scan"], ["infer", "Hello", "-m", CHAT_MODEL]];

describe("CLI commands when the SDK socket fails (issue 16.2, 16.3)", () => {
  it.each([
    ["server stopped", null, /ECONNREFUSED/],
    ["SDK socket silent", "ws-silent", /did not answer the connection on its SDK socket/],
    ["SDK handshake never completes", "ws-no-handshake", /did not answer the connection on its SDK socket/],
  ] as const)(
    "%s: status, doctor, scan and infer exit 3 (LM Studio did not answer) within their bound, naming the cause",
    async (_name, fault, cause) => {
      const sim = await startSimulator({ port: 0, loadTimeScale: 0 });
      if (fault) sim.injectFault({ kind: fault, times: Number.POSITIVE_INFINITY });
      else await sim.close();
      try {
        const env = {
          LMSTUDIO_BASE_URL: sim.baseUrl,
          LMSTUDIO_GUARD_REGISTRY: join(dir, `cli-${fault}.json`),
        };
        const runs = await Promise.all(CLI_COMMANDS.map((args) => runCli(args, env, 60_000)));
        const rows = runs.map((run, i) => [
          CLI_COMMANDS[i]!.join(" "),
          `exit ${run.code ?? run.signal}, ${run.ms} ms`,
        ]);
        console.log(`CLI, ${_name}\n${formatTable([["command", "outcome"], ...rows])}`);
        for (const run of runs) {
          expect(run.signal, run.output).toBeNull();
          expect(run.code, run.output).toBe(3);
          expect(run.output).toMatch(cause);
        }
      } finally {
        if (fault) await sim.close();
      }
    },
    90_000,
  );
});

describe("fault matrix", () => {
  for (const name of Object.keys(CASES) as CaseName[]) {
    describe(name, () => {
      for (const operation of OPERATIONS) {
        it(operation, () => runCell(name, operation), CELL_BOUND_MS + 10_000);
      }
    });
  }

  it("guard probe against a server that is down never creates probe entries it cannot finish", async () => {
    // A second look at the down-server cell: the registry stays empty rather than holding a "testing" entry.
    const registryPath = join(dir, "down-only.json");
    const guard = createContextGuard({ baseUrl: `http://127.0.0.1:${await closedPort()}/v1`, registryPath });
    await expect(guard.test(PROBE_MODEL)).rejects.toSatisfy(isTypedError);
    await guard.close();
    expect(await new ContextRegistry(registryPath).entries()).toEqual([]);
    void ModelHostError;
  });
});
