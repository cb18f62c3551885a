import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { DEFAULT_CATEGORIES_FILE, loadCategories } from "./categories.js";
import { classificationSchema } from "./classification-schema.js";
import { type DocumentClassification, DocumentClassifier } from "./document-classifier.js";
import { loadDocument } from "./documents.js";
import { listDocuments } from "./input-files.js";
import { formatPageRanges } from "./page-selection.js";
import { forEachBounded } from "./pool.js";
import { type ConnectOptions, connectProviders, type ModelSlot, type Providers } from "./providers.js";
import { errorRecord, type ResultRecord } from "./result-record.js";
import { ResultsLog, readResults, writeCsv } from "./results-store.js";

/**
 * The categorization run: list the folder, skip what results.jsonl already has, classify the rest
 * a few at a time, append each result as it finishes, rebuild results.csv. A failing document is
 * recorded as an error row and the run goes on.
 */

export interface PipelineOptions {
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
  /** A first pass below this confidence triggers the page-wise vote (default 0.6). */
  voteBelow?: number;
  /** Most pages classified one by one in a vote (default 8). */
  maxVotePages?: number;
  /** Answer tokens reserved per request (default 400). */
  maxOutputTokens?: number;
  /** Prompt tokens one page image is assumed to cost (default 1024, enough for common local VLMs at 1568 px). */
  imageTokens?: number;
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
  | { type: "connected"; description: string; simulatedInsteadOf?: string; contextSource: string }
  | { type: "finished"; record: ResultRecord };

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

/** One line per field: reasons and quotes span lines in the model's answer but not in a spreadsheet row. */
function oneLine(text: string): string {
  return text.replace(/\s+/g, " ").trim();
}

function okRecord(
  file: string,
  result: DocumentClassification,
  slot: ModelSlot,
  timeMs: number,
): ResultRecord {
  return {
    file,
    status: "ok",
    category: result.category,
    confidence: result.confidence,
    reason: oneLine(result.reason),
    evidence_quote: oneLine(result.evidenceQuote),
    evidence_page: result.evidencePage,
    evidence_verified: result.evidenceVerified,
    pages_used: formatPageRanges(result.pagesUsed),
    page_count: result.pageCount,
    method: result.method,
    vision_used: result.visionUsed,
    model: slot.name,
    input_tokens: result.inputTokens,
    output_tokens: result.outputTokens,
    requests: result.requests,
    time_ms: timeMs,
    error: "",
  };
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
    const maxOutputTokens = options.maxOutputTokens ?? 400;
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
      const classifier = new DocumentClassifier({
        categories,
        schema: classificationSchema(categories),
        text: providers.text,
        vision: providers.vision,
        maxOutputTokens,
        voteBelow: options.voteBelow ?? 0.6,
        maxVotePages: options.maxVotePages ?? 8,
        imageTokens: options.imageTokens ?? 1024,
      });
      const log = new ResultsLog(jsonlPath);
      await forEachBounded(
        toDo,
        options.concurrency ?? 2,
        async (file) => {
          const started = performance.now();
          let record: ResultRecord;
          try {
            const document = await loadDocument(join(options.input, file));
            const result = await classifier.classify(document, options.signal);
            const slot = result.visionUsed ? providers.vision : providers.text;
            record = okRecord(file, result, slot, Math.round(performance.now() - started));
          } catch (error) {
            // An interrupted document is not a failed one: leave it for the next run.
            if (options.signal?.aborted) return;
            record = errorRecord(file, error, Math.round(performance.now() - started));
          }
          log.append(record);
          fresh.set(file, record);
          options.onEvent?.({ type: "finished", record });
        },
        options.signal,
      );
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
