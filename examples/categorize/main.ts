/**
 * `npm run demo`: categorize a folder of documents (by default a generated sample set) with the
 * model LLM_PROVIDER selects; LM Studio by default, the built-in simulator when LM Studio does
 * not answer. Writes results.jsonl, results.csv and report.html, and prints a table and, with
 * labels, an evaluation. With --redis URL (or REDIS_URL) the folder goes through a BullMQ queue
 * instead, to the workers started with worker.ts on any number of machines.
 *
 *   npx tsx examples/categorize/main.ts [--input DIR] [--out DIR] [--concurrency N] [--redis URL] …
 */
import "../read-dotenv.js";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { DEFAULT_CATEGORIES_FILE, loadCategories } from "./categories.js";
import { DEFAULT_VOTE_BELOW } from "./classifier-setup.js";
import {
  checkRedisReachable,
  EXIT_CODES,
  existingFolder,
  positiveNumberOption,
  runCommand,
  UsageError,
  wholeNumberOption,
} from "./cli-input.js";
import type { ClusterSummary } from "./cluster-summary.js";
import { type DistributedEvent, runDistributed } from "./distributed-run.js";
import { checkRedisUrl } from "./distributed-store.js";
import { loadLabels } from "./labels.js";
import { type PipelineRun, runCategorization } from "./pipeline.js";
import { progressReporter } from "./progress.js";
import { evaluationSummary, resultsTable } from "./report.js";
import { ensureSamples } from "./samples.js";
import { writeReport } from "./write-report.js";

const DEFAULT_SAMPLES = ".tmp/categorize/samples";
const DEFAULT_OUT = ".tmp/categorize/results";
/** Above this many documents the terminal gets counts per category instead of a row per file. */
const TABLE_ROWS = 40;

const USAGE = `Usage: npx tsx examples/categorize/main.ts [options]
  --input DIR          folder of .pdf, .txt/.md and image files (default: generated samples in ${DEFAULT_SAMPLES})
  --out DIR            where results.jsonl, results.csv and report.html go (default: ${DEFAULT_OUT})
  --concurrency N      documents in flight at once, local mode (default 2)
  --categories FILE    JSON or TOML categories file (default: examples/categorize/categories.json);
                       in distributed mode it is stored with the queue and every worker uses it
  --labels FILE        labels.csv (file,category) to evaluate against (default: labels.csv or labels.json in --input)
  --resume / --no-resume   skip files already in results.jsonl (default) / start over (local mode)
  --retry-errors       classify files whose last result was an error again
  --vote-below X       confidence under which pages vote one by one, and results count as abstentions (default ${DEFAULT_VOTE_BELOW})
  --context-tokens N   size prompts for this context instead of the model's loaded one
  --no-group           keep file order instead of all vision documents first, then all text ones
Distributed mode (BullMQ + Redis; start workers with examples/categorize/worker.ts):
  --redis URL          enqueue the folder on this Redis and collect the workers' results (default: REDIS_URL)
  --local              run locally even when REDIS_URL is set
  --queue NAME         queue name (default categorize)
  --give-up-after S    stop waiting when no result arrived for S seconds (default 600)
Exit codes: 0 all classified; 1 could not run (Redis/LM Studio unreachable, unexpected error);
  2 bad input (options, folders, categories or labels file); 3 some documents failed;
  4 distributed run stopped waiting before every document had a result; 130 interrupted.
Provider: LLM_PROVIDER=lmstudio|openai|ollama and the variables in .env.example.`;

function printClusterSummary(cluster: ClusterSummary): void {
  console.log(`Workers on queue ${cluster.queue}:`);
  for (const worker of cluster.workers) {
    const state =
      worker.state === "lost" ? "LOST (stopped without shutting down: killed or crashed)" : worker.state;
    console.log(`  ${worker.id} (${worker.baseUrl}): ${worker.documents} documents, ${state}`);
  }
  if (cluster.stalledJobs > 0 || cluster.redelivered.length > 0) {
    console.log(
      `  ${cluster.stalledJobs} stalled job(s) taken over by another worker; ` +
        `${cluster.redelivered.length} document(s) started more than once, each with one result.`,
    );
  }
}

function categoryCounts(run: PipelineRun): string {
  const counts = new Map<string, number>();
  for (const record of run.records) {
    const key = record.status === "ok" ? record.category : "(error)";
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return [...counts].map(([category, count]) => `  ${category}: ${count}`).join("\n");
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      input: { type: "string" },
      out: { type: "string" },
      concurrency: { type: "string" },
      categories: { type: "string" },
      labels: { type: "string" },
      resume: { type: "boolean", default: true },
      "retry-errors": { type: "boolean", default: false },
      "vote-below": { type: "string" },
      "context-tokens": { type: "string" },
      group: { type: "boolean", default: true },
      redis: { type: "string" },
      local: { type: "boolean", default: false },
      queue: { type: "string" },
      "give-up-after": { type: "string" },
      help: { type: "boolean", short: "h", default: false },
    },
    allowNegative: true,
  });
  if (values.help) {
    console.log(USAGE);
    return EXIT_CODES.ok;
  }
  const concurrency = wholeNumberOption("--concurrency", values.concurrency);
  const voteBelow = positiveNumberOption("--vote-below", values["vote-below"]);
  const contextTokens = wholeNumberOption("--context-tokens", values["context-tokens"]);
  const giveUpAfter = positiveNumberOption("--give-up-after", values["give-up-after"]);
  if (voteBelow !== undefined && voteBelow > 1) {
    throw new UsageError(`--vote-below is a confidence between 0 and 1, got "${values["vote-below"]}".`);
  }
  const redisUrl = values.redis ?? (values.local ? undefined : process.env.REDIS_URL || undefined);
  if (redisUrl !== undefined) checkRedisUrl(redisUrl);

  const input = resolve(values.input ?? DEFAULT_SAMPLES);
  if (values.input !== undefined) await existingFolder("--input", input);
  else if (await ensureSamples(input)) console.log(`Generated the sample documents in ${input}.`);
  const out = resolve(values.out ?? DEFAULT_OUT);
  const categories = await loadCategories(values.categories ?? DEFAULT_CATEGORIES_FILE);
  const labels = await loadLabels(input, categories, values.labels);
  if (redisUrl !== undefined) await checkRedisReachable(redisUrl);

  const abort = new AbortController();
  process.once("SIGINT", () => {
    console.error("\nStopping: documents in flight are left for the next run (results stay intact).");
    abort.abort();
    process.once("SIGINT", () => process.exit(EXIT_CODES.interrupted));
  });

  const progress = progressReporter();
  const started = performance.now();
  const onEvent = (event: DistributedEvent) => {
    if (event.type === "connected") {
      if (event.simulatedInsteadOf) {
        console.log(
          `No LM Studio answered at ${event.simulatedInsteadOf}, so this run uses the built-in simulator.\n` +
            "Its answers are scripted from the words in each prompt, not a real model's judgement. " +
            "Start LM Studio's server (`lms server start`) or set LMSTUDIO_BASE_URL to use a real one.",
        );
      }
      console.log(`Using ${event.description}.`);
      console.log(`Documents are sized to ${event.contextSource}.`);
    } else if (event.type === "enqueued") {
      console.log(
        `Queue: ${event.added} documents added (${event.retried} failed ones again), ${event.alreadyQueued} already queued, ${event.alreadyDone} already done.`,
      );
    } else if (event.type === "no-workers") {
      console.error(
        "No worker is running on this queue. Start one per LM Studio host:\n" +
          `  LMSTUDIO_BASE_URL=http://HOST:1234/v1 npx tsx examples/categorize/worker.ts --redis ${redisUrl}`,
      );
    } else {
      progress.onEvent(event);
    }
  };
  let run: PipelineRun;
  let cluster: ClusterSummary | undefined;
  let complete = true;
  if (redisUrl !== undefined) {
    const distributed = await runDistributed({
      redisUrl,
      queue: values.queue,
      input,
      out,
      categories,
      retryErrors: values["retry-errors"],
      giveUpAfterMs: giveUpAfter === undefined ? undefined : giveUpAfter * 1000,
      signal: abort.signal,
      onEvent,
    });
    run = distributed;
    cluster = distributed.cluster;
    complete = distributed.complete;
  } else {
    run = await runCategorization({
      input,
      out,
      concurrency,
      categoriesFile: values.categories,
      resume: values.resume,
      retryErrors: values["retry-errors"],
      voteBelow,
      contextTokens,
      groupByModel: values.group,
      signal: abort.signal,
      onEvent,
    });
  }
  progress.stop();

  console.log(`\n${run.records.length <= TABLE_ROWS ? resultsTable(run.records) : categoryCounts(run)}\n`);
  const errors = run.records.filter(({ status }) => status === "error").length;
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  console.log(
    `${run.classified} classified, ${run.skipped} skipped (already done), ` +
      `${errors} error${errors === 1 ? "" : "s"}, ${seconds} s.`,
  );
  if (cluster) printClusterSummary(cluster);
  const report = await writeReport({
    out,
    records: run.records,
    categoryNames: categories.map(({ name }) => name),
    labels,
    abstainBelow: voteBelow ?? DEFAULT_VOTE_BELOW,
    cluster,
  });
  console.log(`Results: ${run.jsonlPath}\n         ${run.csvPath}`);
  console.log(
    report.evaluation ? evaluationSummary(report.evaluation, report.path) : `Report: ${report.path}`,
  );
  if (abort.signal.aborted) return EXIT_CODES.interrupted;
  if (!complete) {
    console.error(
      "Stopped waiting before every document had a result; run the same command again to collect the rest.",
    );
    return EXIT_CODES.incomplete;
  }
  return errors > 0 ? EXIT_CODES.documentErrors : EXIT_CODES.ok;
}

runCommand(main);
