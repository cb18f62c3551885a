import type { JobsOptions } from "bullmq";
import { z } from "zod";

/**
 * The BullMQ side of the distributed run: one job per distinct document, its id the content hash
 * (BullMQ ignores an add whose id exists, so enqueuing a folder twice adds nothing), vision
 * documents at a higher priority so every worker's host runs its vision pages before its text.
 */

export const JOB_NAME = "classify";

export const jobDataSchema = z.object({
  /** Path relative to `root`, forward slashes (the results' file key). */
  file: z.string().min(1),
  hash: z.string().regex(/^[0-9a-f]{64}$/),
  /** The folder as the producer saw it; a worker on another machine may map it elsewhere. */
  root: z.string().min(1),
});
export type JobData = z.infer<typeof jobDataSchema>;

/** BullMQ: a lower number runs first. */
export const PRIORITY = { vision: 1, text: 2 } as const;

/**
 * Transient failures (the worker's LM Studio unreachable) are retried, on whichever worker takes
 * the job next; jobs are kept after they finish so their ids keep deduplicating later enqueues.
 */
export const JOB_OPTIONS: JobsOptions = {
  attempts: 3,
  backoff: { type: "exponential", delay: 2000 },
  removeOnComplete: false,
  removeOnFail: false,
};

export function bullConnection(redisUrl: string): { url: string; maxRetriesPerRequest: null } {
  // BullMQ's blocking commands need maxRetriesPerRequest: null on the workers' connection.
  return { url: redisUrl, maxRetriesPerRequest: null };
}
