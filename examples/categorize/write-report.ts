import { join } from "node:path";
import writeFileAtomic from "write-file-atomic";
import type { ClusterSummary } from "./cluster-summary.js";
import { type Evaluation, evaluate } from "./evaluation.js";
import type { Labels } from "./labels.js";
import { reportHtml } from "./report-html.js";
import type { ResultRecord } from "./result-record.js";

/** report.html next to results.csv, written whole or not at all, for the local and the distributed run alike. */

export const REPORT_FILE = "report.html";

export interface WrittenReport {
  path: string;
  evaluation?: Evaluation;
}

export async function writeReport(options: {
  out: string;
  records: readonly ResultRecord[];
  categoryNames: readonly string[];
  labels?: Labels;
  abstainBelow: number;
  cluster?: ClusterSummary;
}): Promise<WrittenReport> {
  const evaluation = options.labels
    ? evaluate(options.records, options.labels, options.categoryNames, options.abstainBelow)
    : undefined;
  const path = join(options.out, REPORT_FILE);
  const html = reportHtml({
    title: "Document categorization report",
    generatedAt: new Date().toISOString(),
    documents: options.records.length,
    errors: options.records.filter(({ status }) => status === "error").length,
    evaluation,
    cluster: options.cluster,
  });
  await writeFileAtomic(path, html);
  return { path, evaluation };
}
