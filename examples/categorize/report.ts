import type { Evaluation } from "./evaluation.js";
import { formatScore } from "./report-html.js";
import type { ResultRecord } from "./result-record.js";

/** The on-screen summary: a fixed-width table of results and, with true labels, the evaluation. */

function cut(text: string, width: number): string {
  return text.length > width ? `${text.slice(0, width - 1)}~` : text;
}

export function resultsTable(records: readonly ResultRecord[]): string {
  const header = ["file", "category", "conf", "method", "pages used", "vision", "tokens", "ms"];
  const rows = records.map((record) =>
    record.status === "ok"
      ? [
          record.file,
          record.category,
          String(record.confidence),
          record.method,
          `${record.pages_used} of ${record.page_count}`,
          record.vision_used ? "yes" : "",
          String(record.input_tokens + record.output_tokens),
          String(record.time_ms),
        ]
      : [record.file, "ERROR", "", "", "", "", "", String(record.time_ms), cut(record.error, 70)],
  );
  const widths = header.map((title, i) =>
    Math.max(title.length, ...rows.map((row) => (row[i] ?? "").length)),
  );
  widths[0] = Math.min(widths[0]!, 36);
  const line = (row: readonly string[]) =>
    row
      .map((cell, i) => (i < widths.length ? cut(cell, widths[i]!).padEnd(widths[i]!) : cell))
      .join("  ")
      .trimEnd();
  return [line(header), line(widths.map((width) => "-".repeat(width))), ...rows.map(line)].join("\n");
}

/** The terminal's short evaluation: headline numbers, the weakest categories, where the details are. */
export function evaluationSummary(evaluation: Evaluation, reportPath: string): string {
  const { correct, decided, macro, abstentions, errors, misclassified } = evaluation;
  const share = decided ? ((100 * correct) / decided).toFixed(1) : "0.0";
  const lines = [
    `Evaluation: ${correct}/${decided} decided documents correct (${share}%), macro F1 ${formatScore(macro.f1)}; ` +
      `${abstentions.length} abstained (confidence < ${evaluation.abstainBelow}), ${errors.length} failed.`,
  ];
  const weakest = evaluation.classes
    .filter(({ f1 }) => f1 !== undefined && f1 < 1)
    .sort((a, b) => (a.f1 ?? 0) - (b.f1 ?? 0))
    .slice(0, 3);
  for (const scores of weakest) {
    lines.push(
      `  ${scores.category}: precision ${formatScore(scores.precision)}, recall ${formatScore(scores.recall)}, F1 ${formatScore(scores.f1)}`,
    );
  }
  for (const miss of misclassified.slice(0, 5)) {
    lines.push(
      `  miss: ${miss.file}: labelled ${miss.expected}, model said ${miss.got} (${miss.confidence})`,
    );
  }
  if (misclassified.length > 5) lines.push(`  … and ${misclassified.length - 5} more misclassified`);
  lines.push(`Report: ${reportPath}`);
  return lines.join("\n");
}
