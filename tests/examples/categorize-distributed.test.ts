import { copyFile, mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { UnrecoverableError, Worker } from "bullmq";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startWorkerProcess, type WorkerProcess } from "../../bench/categorize-worker-process.js";
import { type RedisServer, startRedisServer } from "../../bench/redis-server.js";
import { type SimulatorProcess, startSimulatorProcess } from "../../bench/simulator-process.js";
import { loadCategories } from "../../examples/categorize/categories.js";
import { type DistributedRun, runDistributed } from "../../examples/categorize/distributed-run.js";
import { DistributedStore, QueueCategoriesError } from "../../examples/categorize/distributed-store.js";
import { enqueueFolder } from "../../examples/categorize/producer.js";
import { type QueueWorkerEvent, runQueueWorker } from "../../examples/categorize/queue-worker.js";
import { errorRecord } from "../../examples/categorize/result-record.js";
import { generateSamples, generateTextCorpus } from "../../examples/categorize/samples.js";
import { writeReport } from "../../examples/categorize/write-report.js";
import { startSimulator } from "../../src/testing/index.js";

/**
 * The distributed mode on a real redis-server, real BullMQ, and simulators and workers in their
 * own processes, the way a team would run it on several machines.
 */

const categories = await loadCategories();

/**
 * A worker process on the queue with its own simulator and registry. A killed worker's jobs go to
 * another after 5 s: longer than the 3 s of silence that mark a worker lost, so the run cannot
 * finish before the kill shows.
 */
function startWorker(id: string, redisUrl: string, baseUrl: string, root: string): Promise<WorkerProcess> {
  return startWorkerProcess({
    id,
    redisUrl,
    baseUrl,
    registryPath: join(root, `registry-${id}.json`),
    concurrency: 2,
    lockSeconds: 5,
  });
}

describe("distributed categorization: enqueueing", () => {
  let redis: RedisServer;
  let root: string;

  beforeAll(async () => {
    redis = await startRedisServer();
    root = await mkdtemp(join(tmpdir(), "categorize-enqueue-"));
  });

  afterAll(async () => {
    await redis?.stop();
    if (root) await rm(root, { recursive: true, force: true });
  });

  it("adds one job per distinct content; enqueuing again, or a copy of a file, adds nothing", async () => {
    const input = join(root, "documents");
    const labels = await generateSamples(input);
    await copyFile(join(input, "invoice_final.pdf"), join(input, "invoice_final_copy.pdf"));
    const first = await enqueueFolder({ redisUrl: redis.url, queue: "dedupe", input, categories });
    const documents = Object.keys(labels).length + 1;
    expect(first.files).toHaveLength(documents);
    expect(first.added).toBe(documents - 1);
    expect(first.hashes.get("invoice_final_copy.pdf")).toBe(first.hashes.get("invoice_final.pdf"));
    const second = await enqueueFolder({ redisUrl: redis.url, queue: "dedupe", input, categories });
    expect(second).toMatchObject({ added: 0, alreadyQueued: documents - 1, alreadyDone: 0 });
    // The queue keeps the label set it was started with; another one is refused, not mixed in.
    const other = categories.slice(1);
    await expect(
      enqueueFolder({ redisUrl: redis.url, queue: "dedupe", input, categories: other }),
    ).rejects.toBeInstanceOf(QueueCategoriesError);
    const client = new Redis(redis.url);
    try {
      expect(await client.zcard("bull:dedupe:prioritized")).toBe(documents - 1);
      // The image and the scanned PDF go first: BullMQ runs lower priority numbers first.
      const vision = await client.zrangebyscore("bull:dedupe:prioritized", 0, "+inf");
      const firstTwo = await Promise.all(
        vision
          .slice(0, 2)
          .map(async (id) => JSON.parse((await client.hget(`bull:dedupe:${id}`, "data"))!).file),
      );
      expect(firstTwo.sort()).toEqual(["pharmacy_receipt.png", "scanned_lab_report.pdf"]);
    } finally {
      client.disconnect();
    }
  });

  it("a redelivered job whose result is already stored is not classified again, and the first result stays", async () => {
    const input = join(root, "redelivery");
    await generateSamples(input);
    const queue = "redelivery";
    const enqueued = await enqueueFolder({ redisUrl: redis.url, queue, input, categories });
    // As if an earlier attempt stored this result and died before BullMQ marked the job done.
    const store = new DistributedStore(redis.url, queue);
    const earlier = {
      ...errorRecord("invoice_final.pdf", new Error("placeholder"), 1),
      status: "ok" as const,
      category: "Bill",
    };
    const hash = enqueued.hashes.get("invoice_final.pdf")!;
    await store.connect();
    expect(
      await store.putResult(hash, {
        record: earlier,
        worker: "earlier-attempt",
        attempts: 1,
        finishedAt: "then",
      }),
    ).toBe(true);
    const simulator = await startSimulator({ loadTimeScale: 0 });
    const stop = new AbortController();
    const events: QueueWorkerEvent[] = [];
    const worker = runQueueWorker({
      redisUrl: redis.url,
      queue,
      id: "in-process",
      signal: stop.signal,
      env: {
        LLM_PROVIDER: "lmstudio",
        LMSTUDIO_BASE_URL: simulator.baseUrl,
        LMSTUDIO_MODEL: "qwen2.5-7b-instruct",
        LMSTUDIO_VISION_MODEL: "qwen2-vl-2b-instruct",
        LMSTUDIO_GUARD_REGISTRY: join(root, "registry-in-process.json"),
      },
      onEvent: (event) => events.push(event),
    });
    try {
      const run = await runDistributed({
        redisUrl: redis.url,
        categories,
        queue,
        input,
        out: join(root, "redelivery-out"),
        pollMs: 100,
      });
      expect(run.records).toHaveLength(enqueued.files.length);
      expect(run.records.find(({ file }) => file === "invoice_final.pdf")).toMatchObject({
        category: "Bill",
        status: "ok",
      });
      const finished = events.flatMap((event) => (event.type === "finished" ? [event.record.file] : []));
      expect(finished).not.toContain("invoice_final.pdf");
      expect(finished).toHaveLength(enqueued.files.length - 1);
      const prompts = simulator.requests.filter(({ path }) => path.startsWith("/v1/chat/completions"));
      expect(prompts.some(({ body }) => JSON.stringify(body).includes("MOTION TO COMPEL"))).toBe(false);
      expect((await store.results([hash])).get(hash)?.worker).toBe("earlier-attempt");
      // A late second write loses: HSETNX keeps the first.
      expect(
        await store.putResult(hash, { record: earlier, worker: "late", attempts: 2, finishedAt: "now" }),
      ).toBe(false);
    } finally {
      stop.abort();
      await worker;
      await store.close();
      await simulator.close();
    }
  });
  it("a job the queue gives up on becomes an error row, and --retry-errors classifies it again", async () => {
    const input = join(root, "failing");
    await generateTextCorpus(input, 3);
    const queue = "failing";
    // A worker whose every job fails for good (BullMQ does not retry an UnrecoverableError).
    const failing = new Worker(
      queue,
      async () => {
        throw new UnrecoverableError("the host refused the document");
      },
      { connection: { url: redis.url, maxRetriesPerRequest: null } },
    );
    try {
      const run = await runDistributed({
        redisUrl: redis.url,
        categories,
        queue,
        input,
        out: join(root, "failing-out"),
        pollMs: 100,
      });
      expect(run.complete).toBe(true);
      expect(run.records).toHaveLength(3);
      for (const record of run.records) {
        expect(record).toMatchObject({
          status: "error",
          error: "Error: queue gave up: the host refused the document",
        });
      }
    } finally {
      await failing.close();
    }
    // --retry-errors drops the error results and their jobs, and a working host classifies them.
    const simulator = await startSimulator({ loadTimeScale: 0 });
    const stop = new AbortController();
    const worker = runQueueWorker({
      redisUrl: redis.url,
      queue,
      id: "healthy",
      signal: stop.signal,
      env: {
        LLM_PROVIDER: "lmstudio",
        LMSTUDIO_BASE_URL: simulator.baseUrl,
        LMSTUDIO_MODEL: "qwen2.5-7b-instruct",
        LMSTUDIO_VISION_MODEL: "qwen2-vl-2b-instruct",
        LMSTUDIO_GUARD_REGISTRY: join(root, "registry-healthy.json"),
      },
    });
    try {
      const out = join(root, "failing-out");
      const rerun = await runDistributed({ redisUrl: redis.url, categories, queue, input, out, pollMs: 100 });
      expect(rerun.skipped).toBe(3);
      expect(rerun.records.every(({ status }) => status === "error")).toBe(true);
      const retried = await runDistributed({
        redisUrl: redis.url,
        categories,
        queue,
        input,
        out,
        pollMs: 100,
        retryErrors: true,
      });
      expect(retried.records.map(({ status }) => status)).toEqual(["ok", "ok", "ok"]);
      expect(retried.classified).toBe(3);
    } finally {
      stop.abort();
      await worker;
      await simulator.close();
    }
  });
});

describe("distributed categorization: a worker killed mid-run", () => {
  const documents = 200;
  let redis: RedisServer;
  let root: string;
  let simulators: SimulatorProcess[] = [];
  let workers: WorkerProcess[] = [];
  let run: DistributedRun;
  let killedAt = 0;
  let reportHtml: string;
  const progress: Array<{ file: string; worker?: string }> = [];

  beforeAll(async () => {
    redis = await startRedisServer();
    root = await mkdtemp(join(tmpdir(), "categorize-crash-"));
    const input = join(root, "documents");
    await generateTextCorpus(input, documents);
    simulators = await Promise.all([startSimulatorProcess(), startSimulatorProcess()]);
    workers = [
      await startWorker("worker-a", redis.url, simulators[0]!.baseUrl, root),
      await startWorker("worker-b", redis.url, simulators[1]!.baseUrl, root),
    ];
    const client = new Redis(redis.url);
    // SIGKILL worker-a once a fifth of the documents are done: no shutdown, jobs in flight.
    const killer = setInterval(async () => {
      if (killedAt > 0) return;
      const done = await client.hlen("categorize:categorize:results");
      if (done >= documents / 5 && killedAt === 0) {
        killedAt = done;
        workers[0]!.child.kill("SIGKILL");
      }
    }, 50);
    try {
      run = await runDistributed({
        redisUrl: redis.url,
        categories,
        input,
        out: join(root, "results"),
        pollMs: 200,
        onEvent: (event) => {
          if (event.type === "finished") progress.push({ file: event.record.file, worker: event.worker });
        },
      });
    } finally {
      clearInterval(killer);
      client.disconnect();
    }
    const { records } = run;
    const written = await writeReport({
      out: join(root, "results"),
      records,
      categoryNames: [
        "Medical Record",
        "Bill",
        "Pleading",
        "Documentary Evidence",
        "Correspondence",
        "Other",
      ],
      abstainBelow: 0.6,
      cluster: run.cluster,
    });
    reportHtml = await readFile(written.path, "utf8");
  }, 300_000);

  afterAll(async () => {
    for (const worker of workers) await worker.stop();
    await Promise.all(simulators.map((simulator) => simulator.stop()));
    await redis?.stop();
    if (root) await rm(root, { recursive: true, force: true });
  });

  it("killed worker-a mid-run, with work left for worker-b", async () => {
    expect(killedAt).toBeGreaterThanOrEqual(documents / 5);
    expect(killedAt).toBeLessThan(documents);
    expect(await workers[0]!.exited).toBeNull();
    expect(workers[0]!.child.signalCode).toBe("SIGKILL");
  });

  it("ends with exactly one result per document, in results.jsonl and results.csv", async () => {
    expect(run.complete).toBe(true);
    const files = run.records.map(({ file }) => file);
    expect(files).toHaveLength(documents);
    expect(new Set(files).size).toBe(documents);
    expect(run.records.every(({ status }) => status === "ok")).toBe(true);
    const lines = (await readFile(run.jsonlPath, "utf8")).trim().split("\n");
    expect(lines).toHaveLength(documents);
    expect(new Set(lines.map((line) => JSON.parse(line).file)).size).toBe(documents);
    const csvRows = (await readFile(run.csvPath, "utf8")).trim().split("\r\n");
    expect(csvRows).toHaveLength(documents + 1);
  });

  it("reports progress for every document, from both workers", () => {
    expect(progress).toHaveLength(documents);
    expect(new Set(progress.map(({ file }) => file)).size).toBe(documents);
    expect(new Set(progress.map(({ worker }) => worker))).toEqual(new Set(["worker-a", "worker-b"]));
  });

  it("shares the work between both hosts, each through its own simulator", () => {
    const byWorker = new Map(run.cluster.workers.map((worker) => [worker.id, worker]));
    expect(byWorker.get("worker-a")?.baseUrl).toBe(simulators[0]!.baseUrl);
    expect(byWorker.get("worker-b")?.baseUrl).toBe(simulators[1]!.baseUrl);
    const a = byWorker.get("worker-a")!.documents;
    const b = byWorker.get("worker-b")!.documents;
    expect(a).toBeGreaterThan(0);
    expect(b).toBeGreaterThan(0);
    expect(a + b).toBe(documents);
  });

  it("shows the kill: worker-a lost, its jobs stalled and taken over by worker-b", () => {
    const a = run.cluster.workers.find(({ id }) => id === "worker-a");
    expect(a?.state).toBe("lost");
    expect(run.cluster.workers.find(({ id }) => id === "worker-b")?.state).toBe("running");
    expect(run.cluster.stalledJobs).toBeGreaterThanOrEqual(1);
    for (const item of run.cluster.redelivered) {
      expect(item.attempts).toBeGreaterThan(1);
      expect(item.worker).toBe("worker-b");
    }
    expect(reportHtml).toMatch(/<tr class="lost"><td>worker-a<\/td>/);
    expect(reportHtml).toContain("LOST: stopped without shutting down (killed or crashed)");
    expect(reportHtml).toContain(`Stalled jobs reported by the queue: ${run.cluster.stalledJobs}.`);
  });

  it("a clean stop is recorded as such, and a second run enqueues and classifies nothing", async () => {
    await workers[1]!.stop();
    expect(workers[1]!.child.exitCode).toBe(0);
    const again = await runDistributed({
      redisUrl: redis.url,
      categories,
      input: join(root, "documents"),
      out: join(root, "results"),
      pollMs: 100,
    });
    expect(again.skipped).toBe(documents);
    expect(again.classified).toBe(0);
    expect(again.records).toEqual(run.records);
    expect(again.cluster.workers.find(({ id }) => id === "worker-b")?.state).toBe("stopped");
    expect(again.cluster.workers.find(({ id }) => id === "worker-a")?.state).toBe("lost");
  });
});
