import type { ResultRecord } from "./result-record.js";

/** The on-screen summary: a fixed-width table of results and, with true labels, the accuracy. */

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

export interface Accuracy {
  correct: number;
  labelled: number;
  misses: Array<{ file: string; expected: string; got: string }>;
}

/** Over labelled files that have a result; an error row counts as a miss. */
export function accuracy(records: readonly ResultRecord[], labels: Record<string, string>): Accuracy {
  const misses: Accuracy["misses"] = [];
  let labelled = 0;
  for (const record of records) {
    const expected = labels[record.file];
    if (expected === undefined) continue;
    labelled++;
    const got = record.status === "ok" ? record.category : "(error)";
    if (got !== expected) misses.push({ file: record.file, expected, got });
  }
  return { correct: labelled - misses.length, labelled, misses };
}

export function accuracyLine({ correct, labelled, misses }: Accuracy): string {
  const percent = labelled ? ((100 * correct) / labelled).toFixed(1) : "0.0";
  const detail = misses.map(
    ({ file, expected, got }) => `\n  miss: ${file}: expected ${expected}, got ${got}`,
  );
  return `Accuracy: ${correct}/${labelled} (${percent}%)${detail.join("")}`;
}
