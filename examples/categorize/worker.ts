/**
 * A queue worker for the distributed categorization: run one per LM Studio host, on any machine
 * that can reach Redis and see the documents. Each uses its own LMSTUDIO_BASE_URL and guard
 * registry (LMSTUDIO_GUARD_REGISTRY or --registry), so a host's tested limits stay its own.
 *
 *   LMSTUDIO_BASE_URL=http://gpu-box:1234/v1 npx tsx examples/categorize/worker.ts --redis redis://queue-host:6379
 */
import "../read-dotenv.js";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import {
  checkRedisReachable,
  EXIT_CODES,
  existingFolder,
  positiveNumberOption,
  runCommand,
  UsageError,
  wholeNumberOption,
} from "./cli-input.js";
import { checkRedisUrl } from "./distributed-store.js";
import { runQueueWorker } from "./queue-worker.js";

const USAGE = `Usage: npx tsx examples/categorize/worker.ts --redis URL [options]
  --redis URL          the queue's Redis (default: REDIS_URL)
  --queue NAME         queue name (default categorize)
  --id NAME            this worker's name in progress and the report (default HOSTNAME-PID)
  --input DIR          where this machine sees the enqueued folder, if not at the producer's path
  --concurrency N      jobs at once, capped at the host's parallel slots (default: the slots, else 2)
  --registry FILE      context guard registry for this host (default: LMSTUDIO_GUARD_REGISTRY, else LM Studio's)
  --test-context-first measure the text model's usable context with the guard before the first job
  --vote-below X       confidence under which pages vote one by one (default 0.6)
  --context-tokens N   size prompts for this context instead of the model's loaded one
  --lock-seconds S     how long a job stays with a worker that stopped answering (default 30)
LMSTUDIO_BASE_URL and the other provider variables choose this worker's LM Studio; no simulator stands in.
The categories come with the queue (main.ts stores its categories file there).
Ctrl-C (or SIGTERM) finishes the jobs in flight, then stops; a second Ctrl-C stops at once
(the queue hands those jobs to another worker).
Exit codes: 0 stopped cleanly; 1 could not run (Redis or LM Studio unreachable); 2 bad input.`;

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      redis: { type: "string" },
      queue: { type: "string" },
      id: { type: "string" },
      input: { type: "string" },
      concurrency: { type: "string" },
      registry: { type: "string" },
      "test-context-first": { type: "boolean", default: false },
      "vote-below": { type: "string" },
      "context-tokens": { type: "string" },
      "lock-seconds": { type: "string" },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return EXIT_CODES.ok;
  }
  const redisUrl = values.redis ?? (process.env.REDIS_URL || undefined);
  if (redisUrl === undefined)
    throw new UsageError("A worker needs the queue's Redis: --redis URL or REDIS_URL.");
  checkRedisUrl(redisUrl);
  const concurrency = wholeNumberOption("--concurrency", values.concurrency);
  const voteBelow = positiveNumberOption("--vote-below", values["vote-below"]);
  const contextTokens = wholeNumberOption("--context-tokens", values["context-tokens"]);
  const lockSeconds = positiveNumberOption("--lock-seconds", values["lock-seconds"]);
  const input =
    values.input === undefined ? undefined : await existingFolder("--input", resolve(values.input));
  await checkRedisReachable(redisUrl);

  const stop = new AbortController();
  const shutdown = () => {
    if (stop.signal.aborted) process.exit(EXIT_CODES.interrupted);
    console.error("Stopping after the jobs in flight (again to stop now).");
    stop.abort();
  };
  process.on("SIGINT", shutdown);
  process.on("SIGTERM", shutdown);

  const env = { ...process.env };
  if (values.registry !== undefined) env.LMSTUDIO_GUARD_REGISTRY = resolve(values.registry);
  const { stored } = await runQueueWorker({
    redisUrl,
    queue: values.queue,
    id: values.id,
    input,
    concurrency,
    testContextFirst: values["test-context-first"],
    voteBelow,
    contextTokens,
    env,
    lockMs: lockSeconds === undefined ? undefined : lockSeconds * 1000,
    signal: stop.signal,
    onEvent(event) {
      if (event.type === "ready") {
        const slots =
          event.slots === undefined
            ? "the host does not report its parallel slots"
            : `the host has ${event.slots} parallel slots`;
        console.log(`Worker ${event.id}: ${event.description}; ${event.concurrency} at a time (${slots}).`);
        return;
      }
      const { record } = event;
      const outcome =
        record.status === "ok" ? `${record.category} (${record.confidence})` : `error: ${record.error}`;
      const note = event.stored ? "" : " (already stored by another attempt; kept the first)";
      console.log(`${record.file} -> ${outcome}${note}`);
    },
  });
  console.log(`Worker stopped; it stored ${stored} result${stored === 1 ? "" : "s"}.`);
  return EXIT_CODES.ok;
}

runCommand(main);
