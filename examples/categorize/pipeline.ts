import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { DEFAULT_CATEGORIES_FILE, loadCategories } from "./categories.js";
import {
  type ClassificationSettings,
  createClassifier,
  DEFAULT_MAX_OUTPUT_TOKENS,
} from "./classifier-setup.js";
import type { DocumentClassifier } from "./document-classifier.js";
import { classifyToRecord } from "./document-record.js";
import { type LoadedDocument, loadDocument } from "./documents.js";
import { listDocuments } from "./input-files.js";
import { forEachBounded } from "./pool.js";
import { type ConnectOptions, connectProviders, type Providers } from "./providers.js";
import { errorRecord, type ResultRecord } from "./result-record.js";
import { ResultsLog, readResults, writeCsv } from "./results-store.js";

/**
 * The categorization run: list the folder, skip what results.jsonl already has, classify the rest
 * a few at a time, append each result as it finishes, rebuild results.csv. A failing document is
 * recorded as an error row and the run goes on. Documents go in two passes grouped by model (all
 * that need the vision model first, then the text ones), so a host that keeps one just-in-time
 * model loads each once instead of swapping them.
 */

export interface PipelineOptions extends ClassificationSettings {
  /** Folder of .pdf, .txt/.md and image files. */
  input: string;
  /** Folder for results.jsonl and results.csv (created if missing). */
  out: string;
  /** Documents in flight at once (default 2). */
  concurrency?: number;
  /** JSON or TOML file of categories (default: categories.json next to this file). */
  categoriesFile?: string;
  /** Skip documents results.jsonl already has (default true); false empties it and classifies everything again. */
  resume?: boolean;
  /** With resume, classify again the documents whose last result is an error (default false). */
  retryErrors?: boolean;
  /** Vision documents first, then text ones (default true); false keeps file order. */
  groupByModel?: boolean;
  /** Fixed context size for every prompt instead of measuring the model's. */
  contextTokens?: number;
  contextSizer?: ConnectOptions["contextSizer"];
  /** Measure an untested LM Studio text model's context with the guard before classifying (see providers.ts). */
  testContextFirst?: boolean;
  /** Environment the provider is configured from (default process.env). */
  env?: Record<string, string | undefined>;
  signal?: AbortSignal;
  onEvent?: (event: PipelineEvent) => void;
}

export type PipelineEvent =
  | { type: "planned"; total: number; toDo: number; skipped: number }
  | { type: "grouped"; vision: number; text: number }
  | { type: "connected"; description: string; simulatedInsteadOf?: string; contextSource: string }
  /** `worker` names the queue worker that classified it, in a distributed run. */
  | { type: "finished"; record: ResultRecord; worker?: string };

export interface PipelineRun {
  /** One record per input document, in file order (earlier runs' records included). */
  records: ResultRecord[];
  classified: number;
  skipped: number;
  jsonlPath: string;
  csvPath: string;
  /** Set when the simulator stood in for an unreachable LM Studio. */
  simulatedInsteadOf?: string;
}

export async function runCategorization(options: PipelineOptions): Promise<PipelineRun> {
  const jsonlPath = join(options.out, "results.jsonl");
  const csvPath = join(options.out, "results.csv");
  await mkdir(options.out, { recursive: true });
  const categories = await loadCategories(options.categoriesFile ?? DEFAULT_CATEGORIES_FILE);
  const files = await listDocuments(options.input);

  if (options.resume === false) await writeFile(jsonlPath, "");
  const previous = await readResults(jsonlPath);
  const isDone = (file: string) => {
    const record = previous.get(file);
    return record !== undefined && !(options.retryErrors && record.status === "error");
  };
  const toDo = files.filter((file) => !isDone(file));
  options.onEvent?.({
    type: "planned",
    total: files.length,
    toDo: toDo.length,
    skipped: files.length - toDo.length,
  });

  const fresh = new Map<string, ResultRecord>();
  let simulatedInsteadOf: string | undefined;
  // Nothing to do means no connection at all: a finished run resumed costs no model requests.
  if (toDo.length > 0) {
    const maxOutputTokens = options.maxOutputTokens ?? DEFAULT_MAX_OUTPUT_TOKENS;
    const providers: Providers = await connectProviders({
      env: options.env,
      maxOutputTokens,
      contextTokens: options.contextTokens,
      contextSizer: options.contextSizer,
      testContextFirst: options.testContextFirst,
    });
    simulatedInsteadOf = providers.simulatedInsteadOf;
    options.onEvent?.({
      type: "connected",
      description: providers.description,
      simulatedInsteadOf,
      contextSource: providers.contextSource,
    });
    try {
      const classifier = createClassifier(categories, providers, options);
      const log = new ResultsLog(jsonlPath);
      const record = (result: ResultRecord) => {
        log.append(result);
        fresh.set(result.file, result);
        options.onEvent?.({ type: "finished", record: result });
      };
      const classify = async (file: string, document: () => Promise<LoadedDocument>) => {
        const result = await classifyToRecord(file, document, classifier, providers, options.signal);
        if (result) record(result);
      };
      const concurrency = options.concurrency ?? 2;
      const load = (file: string) => () => loadDocument(join(options.input, file));
      if (options.groupByModel === false) {
        await forEachBounded(toDo, concurrency, (file) => classify(file, load(file)), options.signal);
      } else {
        const groups = await groupByFirstPassModel(
          toDo,
          options.input,
          classifier,
          concurrency,
          record,
          options.signal,
        );
        options.onEvent?.({ type: "grouped", vision: groups.vision.length, text: groups.text.length });
        // One group after the other, never overlapping: the switch of models happens once.
        for (const group of [groups.vision, groups.text]) {
          await forEachBounded(group, concurrency, (file) => classify(file, load(file)), options.signal);
        }
      }
    } finally {
      await providers.close();
    }
  }

  const all = await readResults(jsonlPath);
  await writeCsv(
    csvPath,
    [...all.values()].sort((a, b) => a.file.localeCompare(b.file)),
  );
  const records = files.flatMap((file) => {
    const record = all.get(file);
    return record ? [record] : [];
  });
  return {
    records,
    classified: fresh.size,
    skipped: files.length - toDo.length,
    jsonlPath,
    csvPath,
    simulatedInsteadOf,
  };
}

/**
 * Reads each document once to see which model its first pass needs. A document that cannot be
 * read is recorded as an error here, so neither group holds it.
 */
async function groupByFirstPassModel(
  files: readonly string[],
  input: string,
  classifier: DocumentClassifier,
  concurrency: number,
  record: (result: ResultRecord) => void,
  signal?: AbortSignal,
): Promise<{ vision: string[]; text: string[] }> {
  const model = new Map<string, "text" | "vision">();
  await forEachBounded(
    files,
    concurrency,
    async (file) => {
      const started = performance.now();
      try {
        model.set(file, await classifier.firstPassModel(await loadDocument(join(input, file))));
      } catch (error) {
        if (!signal?.aborted) record(errorRecord(file, error, Math.round(performance.now() - started)));
      }
    },
    signal,
  );
  return {
    vision: files.filter((file) => model.get(file) === "vision"),
    text: files.filter((file) => model.get(file) === "text"),
  };
}
