import type { DocumentClassification, DocumentClassifier } from "./document-classifier.js";
import type { LoadedDocument } from "./documents.js";
import { formatPageRanges } from "./page-selection.js";
import type { Providers } from "./providers.js";
import { errorRecord, type ResultRecord } from "./result-record.js";

/**
 * One document to one result row, the same way in the local run and in a queue worker: a document
 * that cannot be read or classified becomes an error row (the run goes on); only an interruption
 * gives no row, so the document is left for the next run.
 */

/** One line per field: reasons and quotes span lines in the model's answer but not in a spreadsheet row. */
function oneLine(text: string): string {
  return text.replace(/\s+/g, " ").trim();
}

function okRecord(file: string, result: DocumentClassification, model: string, timeMs: number): ResultRecord {
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
    model,
    input_tokens: result.inputTokens,
    output_tokens: result.outputTokens,
    requests: result.requests,
    time_ms: timeMs,
    error: "",
  };
}

/**
 * Undefined when `signal` aborted the work. An error for which `rethrow` says true is thrown
 * instead of recorded (a queue worker retries an unreachable server rather than failing the document).
 */
export async function classifyToRecord(
  file: string,
  document: () => Promise<LoadedDocument>,
  classifier: DocumentClassifier,
  providers: Pick<Providers, "text" | "vision">,
  signal?: AbortSignal,
  rethrow?: (error: unknown) => boolean,
): Promise<ResultRecord | undefined> {
  const started = performance.now();
  try {
    const result = await classifier.classify(await document(), signal);
    const slot = result.visionUsed ? providers.vision : providers.text;
    return okRecord(file, result, slot.name, Math.round(performance.now() - started));
  } catch (error) {
    if (signal?.aborted) return undefined;
    if (rethrow?.(error)) throw error;
    return errorRecord(file, error, Math.round(performance.now() - started));
  }
}
