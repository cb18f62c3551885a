import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { Queue } from "bullmq";
import writeFileAtomic from "write-file-atomic";
import type { Category } from "./categories.js";
import type { ClusterSummary } from "./cluster-summary.js";
import { DEFAULT_QUEUE, DistributedStore, resultOf, type StoredResult } from "./distributed-store.js";
import { bullConnection, type JobData } from "./job-queue.js";
import type { PipelineEvent, PipelineRun } from "./pipeline.js";
import { enqueueFolder } from "./producer.js";
import { errorRecord, type ResultRecord } from "./result-record.js";
import { writeCsv } from "./results-store.js";

/**
 * The distributed run as seen from the machine with the folder: enqueue it, follow the results
 * as any worker stores them, then join them into the same results.jsonl and results.csv a local
 * run writes. Redis holds the truth; results.jsonl is rewritten from it whole, so a rerun (which
 * enqueues only what is new) always ends with exactly one row per document.
 */

export interface DistributedRunOptions {
  redisUrl: string;
  queue?: string;
  input: string;
  out: string;
  /** The label set; stored with the queue, so every worker classifies against it. */
  categories: readonly Category[];
  /** Classify again the documents whose result is an error. */
  retryErrors?: boolean;
  /** How often results are collected (default 500 ms). */
  pollMs?: number;
  /** Stop waiting when no result arrived for this long (default 10 min); what is done is still joined. */
  giveUpAfterMs?: number;
  signal?: AbortSignal;
  onEvent?: (event: DistributedEvent) => void;
}

export type DistributedEvent =
  | PipelineEvent
  | { type: "enqueued"; added: number; alreadyQueued: number; alreadyDone: number; retried: number }
  | { type: "no-workers" };

export interface DistributedRun extends PipelineRun {
  cluster: ClusterSummary;
  /** False when the wait stopped (interrupted, or nothing arrived for giveUpAfterMs) before every document had a result. */
  complete: boolean;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Jobs BullMQ gave up on (every attempt failed, or they stalled too often) get an error result, so
 * the document is reported rather than waited for forever. HSETNX keeps a late real result out.
 */
async function recordFailedJobs(
  queue: Queue<JobData>,
  store: DistributedStore,
  pending: ReadonlySet<string>,
): Promise<void> {
  for (const job of await queue.getFailed()) {
    if (!job.id || !pending.has(job.id)) continue;
    await store.putResult(job.id, {
      record: errorRecord(job.data.file, new Error(`queue gave up: ${job.failedReason}`), 0),
      worker: "(queue)",
      attempts: job.attemptsStarted,
      finishedAt: new Date().toISOString(),
    });
  }
}

export async function runDistributed(options: DistributedRunOptions): Promise<DistributedRun> {
  const queueName = options.queue ?? DEFAULT_QUEUE;
  const jsonlPath = join(options.out, "results.jsonl");
  const csvPath = join(options.out, "results.csv");
  await mkdir(options.out, { recursive: true });
  const enqueued = await enqueueFolder({
    redisUrl: options.redisUrl,
    queue: queueName,
    input: options.input,
    categories: options.categories,
    retryErrors: options.retryErrors,
    signal: options.signal,
  });
  options.onEvent?.({
    type: "enqueued",
    added: enqueued.added,
    alreadyQueued: enqueued.alreadyQueued,
    alreadyDone: enqueued.alreadyDone,
    retried: enqueued.retried,
  });
  const filesByHash = new Map<string, string[]>();
  for (const file of enqueued.files) {
    const hash = enqueued.hashes.get(file)!;
    filesByHash.set(hash, [...(filesByHash.get(hash) ?? []), file]);
  }

  const store = new DistributedStore(options.redisUrl, queueName);
  const queue = new Queue<JobData>(queueName, { connection: bullConnection(options.redisUrl) });
  try {
    await store.connect();
    const pending = new Set(filesByHash.keys());
    const before = await store.results([...pending]);
    for (const hash of before.keys()) pending.delete(hash);
    const skipped = [...before.keys()].reduce((sum, hash) => sum + filesByHash.get(hash)!.length, 0);
    options.onEvent?.({
      type: "planned",
      total: enqueued.files.length,
      toDo: enqueued.files.length - skipped,
      skipped,
    });

    let lastProgress = Date.now();
    let warnedNoWorkers = false;
    const giveUpAfter = options.giveUpAfterMs ?? 600_000;
    while (pending.size > 0 && !options.signal?.aborted && Date.now() - lastProgress < giveUpAfter) {
      await recordFailedJobs(queue, store, pending);
      const arrived = await store.results([...pending]);
      for (const [hash, stored] of arrived) {
        pending.delete(hash);
        lastProgress = Date.now();
        for (const file of filesByHash.get(hash)!) {
          options.onEvent?.({ type: "finished", record: resultOf(stored, file), worker: stored.worker });
        }
      }
      if (pending.size === 0) break;
      if (!warnedNoWorkers && Date.now() - lastProgress > 5000) {
        const live = (await store.workers(new Map())).filter(({ state }) => state === "running");
        if (live.length === 0) {
          warnedNoWorkers = true;
          options.onEvent?.({ type: "no-workers" });
        }
      }
      await sleep(options.pollMs ?? 500);
    }

    const all = await store.results([...filesByHash.keys()]);
    const records: ResultRecord[] = enqueued.files.flatMap((file) => {
      const stored = all.get(enqueued.hashes.get(file)!);
      return stored ? [resultOf(stored, file)] : [];
    });
    await writeFileAtomic(jsonlPath, records.map((record) => `${JSON.stringify(record)}\n`).join(""));
    await writeCsv(
      csvPath,
      [...records].sort((a, b) => a.file.localeCompare(b.file)),
    );
    return {
      records,
      classified: records.length - skipped,
      skipped,
      jsonlPath,
      csvPath,
      cluster: await clusterSummary(store, queueName, all, filesByHash),
      complete: pending.size === 0,
    };
  } finally {
    await queue.close();
    await store.close();
  }
}

async function clusterSummary(
  store: DistributedStore,
  queue: string,
  results: ReadonlyMap<string, StoredResult>,
  filesByHash: ReadonlyMap<string, string[]>,
): Promise<ClusterSummary> {
  const perWorker = new Map<string, number>();
  for (const { worker } of results.values()) perWorker.set(worker, (perWorker.get(worker) ?? 0) + 1);
  const redelivered = [...results]
    .filter(([, stored]) => stored.attempts > 1)
    .map(([hash, stored]) => ({
      file: filesByHash.get(hash)![0]!,
      attempts: stored.attempts,
      worker: stored.worker,
    }))
    .sort((a, b) => a.file.localeCompare(b.file));
  return {
    queue,
    workers: await store.settledWorkers(perWorker),
    redelivered,
    stalledJobs: await store.stalledJobs(),
  };
}
