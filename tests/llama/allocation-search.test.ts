import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tinyModelDir } from "../fixtures/tiny-llama.js";

/**
 * A memory-bounded search for the largest context llama.cpp can allocate, through the context guard's
 * L0 probe. The engine runs in a child process whose data segment is capped with `ulimit -d`
 * (RLIMIT_DATA): allocations above it fail for real inside llama.cpp, and the machine's memory is never
 * at risk. The model is the generated tiny llama with 32 layers, so its KV cache costs 8 KiB per token
 * and the limit is reached at ~10^5 tokens, where each probe takes well under a second.
 */

const LIMIT_BYTES = 1024 ** 3;
const LAYERS = 32;
/** f16 K and V, 64 wide, per layer and token. */
const KV_BYTES_PER_TOKEN = 2 * LAYERS * 64 * 2;
const GRANULARITY = 4096;
/** Above this the KV cache alone exceeds the limit: never asked for. */
const CAP = Math.floor(LIMIT_BYTES / KV_BYTES_PER_TOKEN / GRANULARITY) * GRANULARITY;
const DECLARED = 1 << 24;
const CHILD = join(dirname(fileURLToPath(import.meta.url)), "allocation-probe.child.ts");

interface Probe {
  contextLength: number;
  passed: boolean;
  loaded?: number[];
  failureKind?: string;
  detail?: string;
}

/** The child simulator; restarted when llama.cpp aborts it. */
class EngineProcess {
  private child: ChildProcessWithoutNullStreams | undefined;
  private pending: ((line: Probe | { ready: true }) => void) | undefined;
  private stderr = "";
  private exited: Promise<void> = Promise.resolve();

  constructor(private readonly gguf: string) {}

  private async start(): Promise<void> {
    this.stderr = "";
    const child = spawn(
      "bash",
      [
        "-c",
        'ulimit -d "$1" && exec "$2" --import tsx "$3" "$4" "$5"',
        "bash",
        String(LIMIT_BYTES / 1024),
        process.execPath,
        CHILD,
        this.gguf,
        String(DECLARED),
      ],
      { stdio: "pipe" },
    );
    this.child = child;
    child.stderr.on("data", (chunk: Buffer) => {
      this.stderr = (this.stderr + chunk.toString()).slice(-4000);
    });
    createInterface({ input: child.stdout }).on("line", (line) => {
      if (!line.startsWith("{")) return;
      const resolve = this.pending;
      this.pending = undefined;
      resolve?.(JSON.parse(line));
    });
    this.exited = new Promise((resolve) => child.once("exit", () => resolve()));
    await new Promise<void>((resolve, reject) => {
      this.pending = () => resolve();
      child.once("exit", (code, signal) =>
        reject(new Error(`engine process exited at start (${code ?? signal}): ${this.stderr}`)),
      );
    });
  }

  async probe(contextLength: number): Promise<Probe> {
    if (this.child === undefined) await this.start();
    const child = this.child!;
    return new Promise<Probe>((resolve) => {
      const onExit = (code: number | null, signal: string | null) => {
        this.pending = undefined;
        this.child = undefined;
        const assertion = /GGML_ASSERT\(.*\) failed/.exec(this.stderr)?.[0];
        resolve({
          contextLength,
          passed: false,
          failureKind: "crash",
          detail: `engine process died (${signal ?? `exit ${code}`}): ${assertion ?? this.stderr.trim().split("\n").at(-1)}`,
        });
      };
      child.once("exit", onExit);
      this.pending = (line) => {
        child.off("exit", onExit);
        resolve(line as Probe);
      };
      child.stdin.write(`${contextLength}\n`);
    });
  }

  async stop(): Promise<void> {
    this.child?.stdin.end();
    await this.exited;
  }
}

const dir = tinyModelDir();
let engine: EngineProcess;

beforeAll(async () => {
  const gguf = await dir.write("deep.gguf", { contextLength: DECLARED, blockCount: LAYERS });
  engine = new EngineProcess(gguf);
});
afterAll(async () => {
  await engine?.stop();
  dir.remove();
});

describe("allocation limit of the llama.cpp backend under a 1 GiB data limit", () => {
  it("finds the largest context that really allocates, and the real failure just above it", async () => {
    const probes: Probe[] = [];
    const probe = async (n: number) => {
      const result = await engine.probe(n);
      probes.push(result);
      return result.passed;
    };
    let lastGood: number | undefined;
    let firstBad: number | undefined;
    for (let n = 16_384; n <= CAP; n *= 2) {
      if (await probe(n)) lastGood = n;
      else {
        firstBad = n;
        break;
      }
    }
    if (firstBad === undefined && lastGood !== CAP) {
      if (await probe(CAP)) lastGood = CAP;
      else firstBad = CAP;
    }
    while (lastGood !== undefined && firstBad !== undefined && firstBad - lastGood > GRANULARITY) {
      const mid = Math.round((lastGood + firstBad) / 2 / GRANULARITY) * GRANULARITY;
      if (await probe(mid)) lastGood = mid;
      else firstBad = mid;
    }
    const recovered = await engine.probe(GRANULARITY);

    const record = {
      limitBytes: LIMIT_BYTES,
      layers: LAYERS,
      kvBytesPerToken: KV_BYTES_PER_TOKEN,
      cap: CAP,
      lastGood,
      firstBad,
      probes,
    };
    const out = join(
      dirname(fileURLToPath(import.meta.url)),
      "..",
      "..",
      ".tmp",
      "llama-allocation-search.json",
    );
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, `${JSON.stringify(record, null, 2)}\n`);
    console.info(
      `llama.cpp allocation limit under ${LIMIT_BYTES / 1024 ** 2} MiB: loads ${lastGood}, fails ${firstBad} (${out})`,
    );

    // The search ended with a bracket one granule wide, below the cap.
    expect(lastGood).toBeDefined();
    expect(firstBad).toBeDefined();
    expect(firstBad! - lastGood!).toBeLessThanOrEqual(GRANULARITY);
    expect(probes.every((p) => p.contextLength <= CAP)).toBe(true);
    // The largest loadable context really was allocated at that size...
    const good = probes.find((p) => p.contextLength === lastGood)!;
    expect(good).toMatchObject({ passed: true, loaded: [lastGood] });
    // ...and is bounded by memory: its KV cache alone is a large part of the limit.
    expect(lastGood! * KV_BYTES_PER_TOKEN).toBeGreaterThan(LIMIT_BYTES / 4);
    // The failure just above it is the engine's own: LM Studio's load error, or llama.cpp aborting.
    const bad = probes.find((p) => p.contextLength === firstBad)!;
    expect(bad.passed).toBe(false);
    expect(bad.detail).toMatch(
      /^Failed to load model "tiny-llama-deep"\. Error: Failed to create context|GGML_ASSERT/,
    );
    // At least one failure carries llama.cpp's allocation message through LM Studio's error.
    expect(
      probes.some(
        (p) =>
          p.failureKind === "load-error" && /failed to allocate|insufficient memory/i.test(p.detail ?? ""),
      ),
    ).toBe(true);
    // Failed allocations leave the engine usable.
    expect(recovered).toMatchObject({ passed: true, loaded: [GRANULARITY] });
  }, 240_000);
});
