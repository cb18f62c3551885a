import { hostname } from "node:os";
import { setTimeout as delay } from "node:timers/promises";
import { Redis } from "ioredis";
import { z } from "zod";
import type { Category } from "./categories.js";
import type { WorkerState, WorkerSummary } from "./cluster-summary.js";
import { type ResultRecord, resultRecordSchema } from "./result-record.js";

/**
 * The distributed run's shared state in Redis, next to BullMQ's own keys: the result of each
 * document keyed by content hash, written with HSETNX so the first finished attempt wins and a
 * retried or redelivered job can never add a second row or overwrite the first; and a heartbeat
 * per worker, so the report can tell a worker that stopped cleanly from one that vanished.
 */

export const DEFAULT_QUEUE = "categorize";
/** How often a worker says it is alive; three missed beats and it counts as lost. */
export const HEARTBEAT_MS = 1000;
const LOST_AFTER_MS = 3 * HEARTBEAT_MS;

const storedResultSchema = z.object({
  record: resultRecordSchema,
  worker: z.string(),
  /** BullMQ's attemptsStarted when the result was written: above 1, the job had been handed out before. */
  attempts: z.number(),
  finishedAt: z.string(),
});
export type StoredResult = z.infer<typeof storedResultSchema>;

const workerInfoSchema = z.object({
  id: z.string(),
  baseUrl: z.string(),
  hostname: z.string(),
  pid: z.number(),
  state: z.enum(["running", "stopped"]),
  startedAt: z.string(),
  lastSeenAt: z.string(),
});
type WorkerInfo = z.infer<typeof workerInfoSchema>;

/** The queue already holds documents classified against other categories. */
export class QueueCategoriesError extends Error {
  override readonly name = "QueueCategoriesError";
}

export class RedisUrlError extends Error {
  override readonly name = "RedisUrlError";
}

/** A redis:// or rediss:// URL, checked before anything connects, so a typo is a clear message. */
export function checkRedisUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new RedisUrlError(`"${url}" is not a Redis URL; expected e.g. redis://127.0.0.1:6379.`);
  }
  if (parsed.protocol !== "redis:" && parsed.protocol !== "rediss:") {
    throw new RedisUrlError(`"${url}" is not a Redis URL (redis:// or rediss://).`);
  }
  return url;
}

export class DistributedStore {
  readonly redis: Redis;
  private readonly resultsKey: string;
  private readonly workersKey: string;
  private readonly statsKey: string;
  private readonly categoriesKey: string;

  constructor(
    redisUrl: string,
    readonly queue: string = DEFAULT_QUEUE,
  ) {
    // Fail a command after a few reconnect attempts rather than queueing it forever.
    this.redis = new Redis(checkRedisUrl(redisUrl), { maxRetriesPerRequest: 3, lazyConnect: true });
    this.resultsKey = `categorize:${queue}:results`;
    this.workersKey = `categorize:${queue}:workers`;
    this.statsKey = `categorize:${queue}:stats`;
    this.categoriesKey = `categorize:${queue}:categories`;
  }

  async connect(): Promise<void> {
    if (this.redis.status === "wait") await this.redis.connect();
  }

  /**
   * The queue's categories are set once, by its first producer, and every worker reads them from
   * here: all results of a queue come from one label set, whatever file each machine has.
   */
  async setCategories(categories: readonly Category[]): Promise<void> {
    const json = JSON.stringify(categories);
    if ((await this.redis.set(this.categoriesKey, json, "NX")) === "OK") return;
    if ((await this.redis.get(this.categoriesKey)) !== json) {
      throw new QueueCategoriesError(
        `Queue "${this.queue}" was started with other categories; use the same categories file, or another --queue.`,
      );
    }
  }

  /** The queue's categories as JSON (a cache key for the worker), or undefined before any producer ran. */
  async categoriesJson(): Promise<string | undefined> {
    return (await this.redis.get(this.categoriesKey)) ?? undefined;
  }

  /** True when this call stored the result; false when another attempt already had. */
  async putResult(hash: string, result: StoredResult): Promise<boolean> {
    return (await this.redis.hsetnx(this.resultsKey, hash, JSON.stringify(result))) === 1;
  }

  /** Forgets a result, so the document can be classified again (retrying failed documents). */
  async deleteResult(hash: string): Promise<void> {
    await this.redis.hdel(this.resultsKey, hash);
  }

  async hasResult(hash: string): Promise<boolean> {
    return (await this.redis.hexists(this.resultsKey, hash)) === 1;
  }

  /** The stored results for `hashes` (absent ones are left out). */
  async results(hashes: readonly string[]): Promise<Map<string, StoredResult>> {
    const found = new Map<string, StoredResult>();
    const chunk = 500;
    for (let start = 0; start < hashes.length; start += chunk) {
      const part = hashes.slice(start, start + chunk);
      const values = await this.redis.hmget(this.resultsKey, ...part);
      values.forEach((value, i) => {
        if (value === null) return;
        const parsed = storedResultSchema.safeParse(JSON.parse(value));
        if (parsed.success) found.set(part[i]!, parsed.data);
      });
    }
    return found;
  }

  async countStalled(): Promise<void> {
    await this.redis.hincrby(this.statsKey, "stalled", 1);
  }

  async stalledJobs(): Promise<number> {
    return Number((await this.redis.hget(this.statsKey, "stalled")) ?? 0);
  }

  async heartbeat(info: Omit<WorkerInfo, "hostname" | "lastSeenAt">): Promise<void> {
    const full: WorkerInfo = { ...info, hostname: hostname(), lastSeenAt: new Date().toISOString() };
    await this.redis.hset(this.workersKey, info.id, JSON.stringify(full));
  }

  /**
   * The workers once each one still marked running has either beaten since this call began (it is
   * alive) or stayed silent past the lost threshold, so a worker killed just before a run ended is
   * reported lost rather than running. Waits at most the lost threshold plus one beat.
   */
  async settledWorkers(resultCounts: ReadonlyMap<string, number>): Promise<WorkerSummary[]> {
    const asked = Date.now();
    const deadline = asked + LOST_AFTER_MS + HEARTBEAT_MS;
    for (;;) {
      const now = Date.now();
      const workers = await this.workers(resultCounts, now);
      const unproven = workers.some(
        (worker) => worker.state === "running" && Date.parse(worker.lastSeenAt) < asked,
      );
      if (!unproven || now >= deadline) return workers;
      await delay(HEARTBEAT_MS / 4);
    }
  }

  /** Every worker that ever joined this queue, with its state as of now. */
  async workers(resultCounts: ReadonlyMap<string, number>, now = Date.now()): Promise<WorkerSummary[]> {
    const raw = await this.redis.hgetall(this.workersKey);
    return Object.values(raw)
      .flatMap((value) => {
        const parsed = workerInfoSchema.safeParse(JSON.parse(value));
        return parsed.success ? [parsed.data] : [];
      })
      .map((info) => {
        const silentFor = now - Date.parse(info.lastSeenAt);
        const state: WorkerState =
          info.state === "stopped" ? "stopped" : silentFor > LOST_AFTER_MS ? "lost" : "running";
        return {
          id: info.id,
          baseUrl: info.baseUrl,
          hostname: info.hostname,
          pid: info.pid,
          documents: resultCounts.get(info.id) ?? 0,
          state,
          startedAt: info.startedAt,
          lastSeenAt: info.lastSeenAt,
        };
      })
      .sort((a, b) => a.id.localeCompare(b.id));
  }

  async close(): Promise<void> {
    if (this.redis.status === "wait" || this.redis.status === "end") return this.redis.disconnect();
    await this.redis.quit().catch(() => this.redis.disconnect());
  }
}

export function resultOf(stored: StoredResult, file: string): ResultRecord {
  return { ...stored.record, file };
}
