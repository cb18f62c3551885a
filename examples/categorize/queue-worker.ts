import { hostname } from "node:os";
import { join } from "node:path";
import { type Job, Worker } from "bullmq";
import type { Category } from "./categories.js";
import {
  type ClassificationSettings,
  createClassifier,
  DEFAULT_MAX_OUTPUT_TOKENS,
} from "./classifier-setup.js";
import { DEFAULT_QUEUE, DistributedStore, HEARTBEAT_MS } from "./distributed-store.js";
import type { DocumentClassifier } from "./document-classifier.js";
import { classifyToRecord } from "./document-record.js";
import { loadDocument } from "./documents.js";
import { reportedParallelSlots } from "./host-slots.js";
import { bullConnection, type JobData, jobDataSchema } from "./job-queue.js";
import { connectProviders } from "./providers.js";
import type { ResultRecord } from "./result-record.js";

/**
 * A queue worker: takes classification jobs from BullMQ and classifies them with its own LM
 * Studio (its own LMSTUDIO_BASE_URL, guard registry and tested limits), as many at a time as that
 * host runs predictions in parallel. Each result goes to Redis once (HSETNX by content hash); a job
 * whose result is already there (redelivered after this or another worker died) is not classified
 * again. A worker killed mid-job loses its lock; after `lockMs` another worker takes the job over.
 */

export interface QueueWorkerOptions extends ClassificationSettings {
  redisUrl: string;
  queue?: string;
  /** Shown in progress and in the report (default hostname-pid). */
  id?: string;
  /** Where this machine sees the documents, when not at the producer's path. */
  input?: string;
  /** Jobs at once; never more than the host's reported parallel slots (default: the slots, else 2). */
  concurrency?: number;
  contextTokens?: number;
  /** Measure an untested text model's context with the guard before the first job (several loads). */
  testContextFirst?: boolean;
  /** Environment the provider is configured from (default process.env). */
  env?: Record<string, string | undefined>;
  /** How long a job stays with a worker that stopped answering before another takes it (default 30 s). */
  lockMs?: number;
  /** Stops taking jobs; jobs in flight finish first. */
  signal?: AbortSignal;
  onEvent?: (event: QueueWorkerEvent) => void;
}

export type QueueWorkerEvent =
  | { type: "ready"; id: string; description: string; concurrency: number; slots?: number }
  | { type: "finished"; record: ResultRecord; stored: boolean; attempts: number };

const DEFAULT_LOCK_MS = 30_000;

/** LM Studio not answering is the host's problem, not the document's: the job is retried. */
function isHostUnreachable(error: unknown): boolean {
  for (let cause = error; cause instanceof Error; cause = cause.cause) {
    if (cause.name === "LMStudioUnreachableError") return true;
  }
  return false;
}

export async function runQueueWorker(options: QueueWorkerOptions): Promise<{ stored: number }> {
  const queue = options.queue ?? DEFAULT_QUEUE;
  const id = options.id ?? `${hostname()}-${process.pid}`;
  const providers = await connectProviders({
    env: options.env,
    maxOutputTokens: options.maxOutputTokens ?? DEFAULT_MAX_OUTPUT_TOKENS,
    contextTokens: options.contextTokens,
    testContextFirst: options.testContextFirst,
    simulatorFallback: false,
  });
  const store = new DistributedStore(options.redisUrl, queue);
  let worker: Worker<JobData> | undefined;
  let beat: NodeJS.Timeout | undefined;
  const startedAt = new Date().toISOString();
  const baseUrl = providers.lmstudio?.baseUrl ?? providers.description;
  let stored = 0;
  try {
    await store.connect();
    const slots = providers.lmstudio
      ? await reportedParallelSlots(providers.lmstudio, [providers.text.name, providers.vision.name])
      : undefined;
    const wanted = options.concurrency ?? slots ?? 2;
    const concurrency = Math.max(1, slots === undefined ? wanted : Math.min(wanted, slots));
    // The categories come with the queue (set by its producer); a classifier per label set seen.
    const classifiers = new Map<string, DocumentClassifier>();
    const classifierForQueue = async () => {
      const json = await store.categoriesJson();
      if (json === undefined) throw new Error(`Queue "${queue}" has no categories: enqueue with main.ts.`);
      let classifier = classifiers.get(json);
      if (!classifier) {
        classifier = createClassifier(JSON.parse(json) as Category[], providers, options);
        classifiers.set(json, classifier);
      }
      return classifier;
    };
    const lockMs = options.lockMs ?? DEFAULT_LOCK_MS;

    const classifyJob = async (job: Job<JobData>) => {
      const data = jobDataSchema.parse(job.data);
      if (await store.hasResult(data.hash)) return "already stored";
      const root = options.input ?? data.root;
      const record = await classifyToRecord(
        data.file,
        () => loadDocument(join(root, data.file)),
        await classifierForQueue(),
        providers,
        undefined,
        isHostUnreachable,
      );
      // No signal is passed, so there is always a record; the type allows an interrupted one.
      if (!record) throw new Error(`${data.file} was interrupted.`);
      const first = await store.putResult(data.hash, {
        record,
        worker: id,
        attempts: job.attemptsStarted,
        finishedAt: new Date().toISOString(),
      });
      if (first) stored++;
      options.onEvent?.({ type: "finished", record, stored: first, attempts: job.attemptsStarted });
      return first ? "stored" : "already stored";
    };

    const heartbeat = (state: "running" | "stopped") =>
      store.heartbeat({ id, baseUrl, pid: process.pid, state, startedAt });
    await heartbeat("running");
    beat = setInterval(() => void heartbeat("running").catch(() => {}), HEARTBEAT_MS);

    worker = new Worker<JobData>(queue, classifyJob, {
      connection: bullConnection(options.redisUrl),
      concurrency,
      lockDuration: lockMs,
      stalledInterval: lockMs,
      // A document that kills its worker twice is failed rather than killing a third.
      maxStalledCount: 2,
      name: id,
    });
    worker.on("stalled", () => void store.countStalled().catch(() => {}));
    // Errors BullMQ reports outside a job (a lost Redis connection) are retried by BullMQ itself.
    worker.on("error", () => {});
    options.onEvent?.({ type: "ready", id, description: providers.description, concurrency, slots });

    await new Promise<void>((resolve) => {
      if (options.signal?.aborted) return resolve();
      options.signal?.addEventListener("abort", () => resolve(), { once: true });
    });
    await worker.close();
    clearInterval(beat);
    beat = undefined;
    await heartbeat("stopped");
  } finally {
    if (beat) clearInterval(beat);
    await worker?.close(true).catch(() => {});
    await providers.close();
    await store.close();
  }
  return { stored };
}
