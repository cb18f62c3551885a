/**
 * `npm run demo`: categorize a folder of documents (by default a generated sample set) with the
 * model LLM_PROVIDER selects; LM Studio by default, the built-in simulator when LM Studio does
 * not answer. Writes results.jsonl and results.csv and prints a table and, with labels, accuracy.
 *
 *   npx tsx examples/categorize/main.ts [--input DIR] [--out DIR] [--concurrency N]
 *     [--categories FILE] [--no-resume] [--retry-errors] [--vote-below 0.6] [--context-tokens N]
 */
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { runCategorization } from "./pipeline.js";
import { progressReporter } from "./progress.js";
import { accuracy, accuracyLine, resultsTable } from "./report.js";
import { ensureSamples, readLabels } from "./samples.js";

const DEFAULT_SAMPLES = ".tmp/categorize/samples";
const DEFAULT_OUT = ".tmp/categorize/results";

const USAGE = `Usage: npx tsx examples/categorize/main.ts [options]
  --input DIR          folder of .pdf, .txt/.md and image files (default: generated samples in ${DEFAULT_SAMPLES})
  --out DIR            where results.jsonl and results.csv go (default: ${DEFAULT_OUT})
  --concurrency N      documents in flight at once (default 2)
  --categories FILE    JSON or TOML categories file (default: examples/categorize/categories.json)
  --resume / --no-resume   skip files already in results.jsonl (default) / start over
  --retry-errors       with --resume, classify files whose last result was an error again
  --vote-below X       first-pass confidence under which pages vote one by one (default 0.6)
  --context-tokens N   size prompts for this context instead of the model's loaded one
Provider: LLM_PROVIDER=lmstudio|openai|ollama and the variables in .env.example.`;

function positiveNumber(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const number = Number(value);
  if (!Number.isFinite(number) || number <= 0)
    throw new Error(`${flag} must be a positive number, got "${value}".`);
  return number;
}

const { values } = parseArgs({
  options: {
    input: { type: "string" },
    out: { type: "string" },
    concurrency: { type: "string" },
    categories: { type: "string" },
    resume: { type: "boolean", default: true },
    "retry-errors": { type: "boolean", default: false },
    "vote-below": { type: "string" },
    "context-tokens": { type: "string" },
    help: { type: "boolean", short: "h", default: false },
  },
  allowNegative: true,
});

if (values.help) {
  console.log(USAGE);
  process.exit(0);
}

const input = resolve(values.input ?? DEFAULT_SAMPLES);
if (values.input === undefined && (await ensureSamples(input))) {
  console.log(`Generated the sample documents in ${input}.`);
}

const abort = new AbortController();
process.once("SIGINT", () => {
  console.error("\nStopping: documents in flight are left for the next run (results.jsonl stays intact).");
  abort.abort();
  process.once("SIGINT", () => process.exit(130));
});

const progress = progressReporter();
const started = performance.now();
const run = await runCategorization({
  input,
  out: resolve(values.out ?? DEFAULT_OUT),
  concurrency: positiveNumber("--concurrency", values.concurrency),
  categoriesFile: values.categories,
  resume: values.resume,
  retryErrors: values["retry-errors"],
  voteBelow: positiveNumber("--vote-below", values["vote-below"]),
  contextTokens: positiveNumber("--context-tokens", values["context-tokens"]),
  signal: abort.signal,
  onEvent(event) {
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
    }
    progress.onEvent(event);
  },
});
progress.stop();

console.log(`\n${resultsTable(run.records)}\n`);
const errors = run.records.filter(({ status }) => status === "error").length;
const seconds = ((performance.now() - started) / 1000).toFixed(1);
console.log(
  `${run.classified} classified, ${run.skipped} skipped (already in results.jsonl; --no-resume to redo), ` +
    `${errors} error${errors === 1 ? "" : "s"}, ${seconds} s.`,
);
console.log(`Results: ${run.jsonlPath}\n         ${run.csvPath}`);
const labels = await readLabels(input);
if (labels) console.log(accuracyLine(accuracy(run.records, labels)));
if (abort.signal.aborted) process.exitCode = 130;
