import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import sharp from "sharp";
import { loadCategories } from "../examples/categorize/categories.js";
import { runDistributed } from "../examples/categorize/distributed-run.js";
import { runCategorization } from "../examples/categorize/pipeline.js";
import { generateSamples, generateTextCorpus } from "../examples/categorize/samples.js";
import { startSimulator } from "../src/testing/index.js";
import { startWorkerProcess, type WorkerProcess } from "./categorize-worker-process.js";
import { startRedisServer } from "./redis-server.js";
import { type SimulatorProcess, startSimulatorProcess, startSimulatorScript } from "./simulator-process.js";
import { formatRatio, median, table } from "./stats.js";

/**
 * The distributed categorization (examples/categorize with --redis): documents per second with one
 * and with two queue workers, each with its own simulator process, on a real redis-server; and the
 * model loads that grouping passes by model saves, counted by the simulator.
 */

const BUSY_SIMULATOR = fileURLToPath(new URL("./busy-simulator.ts", import.meta.url));

/** busy-simulator.ts in its own process: every chat completion takes `predictionMs`. */
function startBusySimulatorProcess(predictionMs: number): Promise<SimulatorProcess> {
  return startSimulatorScript(BUSY_SIMULATOR, [String(predictionMs)]);
}

/**
 * One timed run per level and round: workers are started and joined to a fresh queue first
 * (untimed), then the clock runs from enqueueing the folder to the last result joined. With
 * `predictionMs` 0 the simulators answer at once and the run is bound by the client's CPU; with
 * a prediction time the hosts are the bottleneck, as with real models.
 */
export async function benchDistributedScaling(
  rounds: number,
  documents: number,
  predictionMs: number,
): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "bench-distributed-"));
  const input = join(dir, "corpus");
  await generateTextCorpus(input, documents);
  const categories = await loadCategories();
  const redis = await startRedisServer();
  const simulators = await Promise.all(
    [0, 1].map(() => (predictionMs > 0 ? startBusySimulatorProcess(predictionMs) : startSimulatorProcess())),
  );
  const perSecond: Record<1 | 2, number[]> = { 1: [], 2: [] };
  try {
    for (let round = 0; round < rounds; round++) {
      const order: Array<1 | 2> = round % 2 === 0 ? [1, 2] : [2, 1];
      for (const count of order) {
        const queue = `bench-p${predictionMs}-r${round}-w${count}`;
        const workers: WorkerProcess[] = [];
        try {
          for (let i = 0; i < count; i++) {
            workers.push(
              await startWorkerProcess({
                id: `${queue}-${i}`,
                redisUrl: redis.url,
                baseUrl: simulators[i]!.baseUrl,
                registryPath: join(dir, `registry-${i}.json`),
                queue,
                concurrency: 2,
              }),
            );
          }
          const started = performance.now();
          const run = await runDistributed({
            redisUrl: redis.url,
            queue,
            input,
            out: join(dir, queue),
            categories,
            pollMs: 100,
          });
          const seconds = (performance.now() - started) / 1000;
          const failed = run.records.filter(({ status }) => status === "error").length;
          if (!run.complete || run.records.length !== documents || failed > 0) {
            throw new Error(`${queue}: ${run.records.length}/${documents} results, ${failed} failed`);
          }
          perSecond[count].push(documents / seconds);
        } finally {
          for (const worker of workers) await worker.stop();
        }
      }
    }
  } finally {
    await Promise.all(simulators.map((simulator) => simulator.stop()));
    await redis.stop();
    await rm(dir, { recursive: true, force: true });
  }
  const ratios = perSecond[2].map((value, i) => value / perSecond[1][i]!);
  const spread = (values: number[]) =>
    `${median(values).toFixed(2)} (${Math.min(...values).toFixed(2)}–${Math.max(...values).toFixed(2)})`;
  const host = predictionMs > 0 ? `each prediction ${predictionMs} ms` : "instant answers";
  return `distributed categorization: ${documents} text documents per run, workers at concurrency 2, one simulator process each (${host}), real redis-server\n${table(
    ["workers", "documents/s median (min–max)", "throughput vs 1 worker"],
    [
      ["1", spread(perSecond[1]), "1"],
      ["2", spread(perSecond[2]), formatRatio(ratios)],
    ],
  )}`;
}

/** Scans and letters alternating in file order, the worst case for a host that keeps one JIT model. */
async function alternatingFolder(folder: string, pairs: number): Promise<void> {
  await mkdir(folder, { recursive: true });
  for (let i = 0; i < pairs; i++) {
    const n = (k: number) => String(2 * i + k).padStart(3, "0");
    const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="320" height="120"><rect width="100%" height="100%" fill="#fff"/><text x="10" y="60" font-size="20">RECEIPT ${i} TOTAL 12.00</text></svg>`;
    await writeFile(join(folder, `${n(1)}_receipt.png`), await sharp(Buffer.from(svg)).png().toBuffer());
    await writeFile(
      join(folder, `${n(2)}_letter.txt`),
      `Dear Ms. Garcia,\n\nThank you for letter ${i}.\n\nSincerely,\nA. Adjuster`,
    );
  }
}

async function loadCounts(input: string, out: string, groupByModel: boolean, concurrency: number) {
  const simulator = await startSimulator({ loadTimeScale: 0 });
  try {
    await runCategorization({
      input,
      out,
      concurrency,
      groupByModel,
      resume: false,
      env: {
        LLM_PROVIDER: "lmstudio",
        LMSTUDIO_BASE_URL: simulator.baseUrl,
        LMSTUDIO_MODEL: "qwen2.5-7b-instruct",
        LMSTUDIO_VISION_MODEL: "qwen2-vl-2b-instruct",
        LMSTUDIO_GUARD_REGISTRY: join(out, "registry.json"),
      },
    });
    return simulator.loadCounts();
  } finally {
    await simulator.close();
  }
}

/** Loads and JIT evictions, grouped against file order; deterministic at concurrency 1. */
export async function benchModelGrouping(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "bench-grouping-"));
  try {
    const samples = join(dir, "samples");
    await generateSamples(samples);
    const alternating = join(dir, "alternating");
    await alternatingFolder(alternating, 10);
    const rows: string[][] = [];
    for (const [name, input] of [
      ["12 sample documents (2 need vision)", samples],
      ["20 documents, scans and letters alternating", alternating],
    ] as const) {
      for (const concurrency of [1, 2]) {
        const grouped = await loadCounts(input, join(dir, `${name}-g${concurrency}`), true, concurrency);
        const fileOrder = await loadCounts(input, join(dir, `${name}-i${concurrency}`), false, concurrency);
        rows.push([
          name,
          String(concurrency),
          `${fileOrder.loads} (${fileOrder.jitEvictions} evictions)`,
          `${grouped.loads} (${grouped.jitEvictions} evictions)`,
          `${(fileOrder.loads / grouped.loads).toFixed(1)}×`,
        ]);
      }
    }
    return `model loads per run, counted by the simulator (JIT auto-evict keeps one model)\n${table(
      ["documents", "concurrency", "file order: loads", "grouped: loads", "file order / grouped"],
      rows,
    )}`;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
