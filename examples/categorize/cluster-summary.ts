/**
 * What the workers of a distributed run did, as plain data for the reports: which host each
 * worked against, how many documents it finished, and whether it shut down cleanly or vanished
 * (killed, crashed, lost its network) and left jobs that another worker had to take over.
 */

export type WorkerState = "running" | "stopped" | "lost";

export interface WorkerSummary {
  id: string;
  /** The LM Studio the worker classified with. */
  baseUrl: string;
  hostname: string;
  pid: number;
  /** Results this worker stored (its first write of a document; later redeliveries add none). */
  documents: number;
  state: WorkerState;
  startedAt: string;
  lastSeenAt: string;
}

export interface Redelivery {
  file: string;
  /** Times a worker started the job; above 1 means it was handed out again. */
  attempts: number;
  /** The worker whose result was kept. */
  worker: string;
}

export interface ClusterSummary {
  queue: string;
  workers: WorkerSummary[];
  /** Documents whose job was started more than once (a worker died or stalled holding it). */
  redelivered: Redelivery[];
  /** Jobs the queue reported stalled: their worker stopped renewing the lock. */
  stalledJobs: number;
}
