import { appendFileSync, closeSync, openSync, readSync, statSync } from "node:fs";
import { readFile, rename, writeFile } from "node:fs/promises";
import { toCsv } from "./csv.js";
import { RESULT_COLUMNS, type ResultRecord, resultRecordSchema } from "./result-record.js";

/**
 * results.jsonl is the source of truth and the resume log: one record per line, each appended
 * with a single synchronous write, so an interrupted run leaves at most one partial last line,
 * which reading skips and the next append starts after. results.csv is rebuilt from it, through
 * a temporary file and a rename, so it is never half written either.
 */

/** The latest record per file (a retried file's newer line wins). */
export async function readResults(jsonlPath: string): Promise<Map<string, ResultRecord>> {
  let text: string;
  try {
    text = await readFile(jsonlPath, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return new Map();
    throw error;
  }
  const records = new Map<string, ResultRecord>();
  for (const line of text.split("\n")) {
    if (!line.trim()) continue;
    let json: unknown;
    try {
      json = JSON.parse(line);
    } catch {
      continue; // a line cut short by an interrupted run
    }
    const parsed = resultRecordSchema.safeParse(json);
    if (parsed.success) records.set(parsed.data.file, parsed.data);
  }
  return records;
}

function endsWithNewline(path: string): boolean {
  let size: number;
  try {
    size = statSync(path).size;
  } catch {
    return true; // no file yet
  }
  if (size === 0) return true;
  const fd = openSync(path, "r");
  try {
    const last = Buffer.alloc(1);
    readSync(fd, last, 0, 1, size - 1);
    return last[0] === 0x0a;
  } finally {
    closeSync(fd);
  }
}

export class ResultsLog {
  private checkedTail = false;

  constructor(readonly jsonlPath: string) {}

  /** Synchronous on purpose: concurrent documents finishing together never interleave their lines. */
  append(record: ResultRecord): void {
    // A partial line left by a killed run must not swallow this record.
    const prefix = this.checkedTail || endsWithNewline(this.jsonlPath) ? "" : "\n";
    this.checkedTail = true;
    appendFileSync(this.jsonlPath, `${prefix}${JSON.stringify(record)}\n`);
  }
}

export async function writeCsv(csvPath: string, records: Iterable<ResultRecord>): Promise<void> {
  const rows = [...records].map((record) => RESULT_COLUMNS.map((column) => record[column]));
  const temporary = `${csvPath}.${process.pid}.tmp`;
  await writeFile(temporary, toCsv(RESULT_COLUMNS, rows));
  await rename(temporary, csvPath);
}
