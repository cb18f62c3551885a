import { join } from "node:path";
import { Queue } from "bullmq";
import type { Category } from "./categories.js";
import { contentHash } from "./content-hash.js";
import { DEFAULT_QUEUE, DistributedStore } from "./distributed-store.js";
import { loadDocument } from "./documents.js";
import { listDocuments } from "./input-files.js";
import { bullConnection, JOB_NAME, JOB_OPTIONS, type JobData, PRIORITY } from "./job-queue.js";
import { forEachBounded } from "./pool.js";

/**
 * Enqueues a folder: hashes every document, adds one job per hash that has neither a result nor
 * a job yet. Safe to run again at any time (it adds only what is new) and from several machines.
 */

export interface EnqueueOptions {
  redisUrl: string;
  queue?: string;
  input: string;
  /** Stored with the queue for its workers; must match what the queue was started with. */
  categories: readonly Category[];
  /** Classify again the documents whose stored result is an error (their result and job are dropped first). */
  retryErrors?: boolean;
  signal?: AbortSignal;
}

export interface EnqueueOutcome {
  /** Every document in the folder, in file order. */
  files: string[];
  /** Content hash per file (copies share one). */
  hashes: Map<string, string>;
  added: number;
  /** Hashes that already had a job (waiting, running, or finished without a stored result). */
  alreadyQueued: number;
  /** Hashes that already have a result. */
  alreadyDone: number;
  /** Hashes whose error result was dropped and which were enqueued again (with retryErrors). */
  retried: number;
}

/** Whether a document has a page only a vision model can read; unreadable ones count as text (the worker records the error). */
async function hasPageWithoutText(path: string): Promise<boolean> {
  try {
    return (await loadDocument(path)).pages.some(({ needsVision }) => needsVision);
  } catch {
    return false;
  }
}

export async function enqueueFolder(options: EnqueueOptions): Promise<EnqueueOutcome> {
  const queueName = options.queue ?? DEFAULT_QUEUE;
  const files = await listDocuments(options.input);
  const hashes = new Map<string, string>();
  const vision = new Set<string>();
  await forEachBounded(
    files,
    4,
    async (file) => {
      const path = join(options.input, file);
      const hash = await contentHash(path);
      hashes.set(file, hash);
      if (await hasPageWithoutText(path)) vision.add(hash);
    },
    options.signal,
  );
  options.signal?.throwIfAborted();
  const firstFile = new Map<string, string>();
  for (const file of files) if (!firstFile.has(hashes.get(file)!)) firstFile.set(hashes.get(file)!, file);

  const store = new DistributedStore(options.redisUrl, queueName);
  const queue = new Queue<JobData>(queueName, { connection: bullConnection(options.redisUrl) });
  let added = 0;
  let alreadyQueued = 0;
  let alreadyDone = 0;
  let retried = 0;
  try {
    await store.connect();
    await store.setCategories(options.categories);
    const done = await store.results([...firstFile.keys()]);
    const jobs: Parameters<typeof queue.addBulk>[0] = [];
    for (const [hash, file] of firstFile) {
      if (options.retryErrors && done.get(hash)?.record.status === "error") {
        // The old job keeps the id taken until it is removed; then the add below is a new job.
        await (await queue.getJob(hash))?.remove();
        await store.deleteResult(hash);
        done.delete(hash);
        retried++;
      }
      if (done.has(hash)) alreadyDone++;
      else if (await queue.getJob(hash)) alreadyQueued++;
      else {
        const priority = vision.has(hash) ? PRIORITY.vision : PRIORITY.text;
        jobs.push({
          name: JOB_NAME,
          data: { file, hash, root: options.input },
          opts: { ...JOB_OPTIONS, jobId: hash, priority },
        });
      }
    }
    // One bulk add, vision first: a worker already waiting must not start text jobs while the
    // vision ones are still being added.
    jobs.sort((a, b) => (a.opts?.priority ?? 0) - (b.opts?.priority ?? 0));
    if (jobs.length > 0) await queue.addBulk(jobs);
    added = jobs.length;
  } finally {
    await queue.close();
    await store.close();
  }
  return { files, hashes, added, alreadyQueued, alreadyDone, retried };
}
