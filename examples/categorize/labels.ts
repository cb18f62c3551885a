import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { parse } from "csv-parse/sync";
import type { Category } from "./categories.js";
import { LABELS_FILE, readLabels } from "./samples.js";

/**
 * The true category of each file, when someone knows it: a `labels.csv` (columns file,category;
 * a header row is optional) given with --labels or found in the input folder, else the sample
 * set's labels.json. A label that names no category is refused, since it can never be predicted
 * and usually is a typo.
 */

export const LABELS_CSV = "labels.csv";

export class LabelsFileError extends Error {
  override readonly name = "LabelsFileError";
}

export type Labels = Record<string, string>;

function parseLabelsCsv(path: string, text: string): Labels {
  let rows: string[][];
  try {
    rows = parse(text, { skip_empty_lines: true, trim: true, relax_column_count: false });
  } catch (error) {
    throw new LabelsFileError(`Labels file ${path} is not valid CSV: ${(error as Error).message}`);
  }
  const first = rows[0];
  if (first && first[0]?.toLowerCase() === "file" && first[1]?.toLowerCase() === "category") rows.shift();
  const labels: Labels = {};
  rows.forEach((row, i) => {
    const [file, category] = row;
    if (row.length !== 2 || !file || !category) {
      throw new LabelsFileError(`Labels file ${path}, row ${i + 1}: expected two columns, file,category.`);
    }
    labels[file.replace(/\\/g, "/")] = category;
  });
  return labels;
}

async function readIfPresent(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw new LabelsFileError(`Cannot read labels file ${path}: ${(error as Error).message}`);
  }
}

function checkCategories(path: string, labels: Labels, categories: readonly Category[]): Labels {
  const known = new Set(categories.map(({ name }) => name));
  const unknown = [...new Set(Object.values(labels).filter((label) => !known.has(label)))];
  if (unknown.length > 0) {
    throw new LabelsFileError(
      `Labels file ${path} names categories that are not in the categories file: ${unknown.join(", ")}.`,
    );
  }
  return labels;
}

/** The labels for `folder`, or undefined when none are known. `file` must exist when given. */
export async function loadLabels(
  folder: string,
  categories: readonly Category[],
  file?: string,
): Promise<Labels | undefined> {
  if (file !== undefined) {
    const text = await readIfPresent(file);
    if (text === undefined) throw new LabelsFileError(`Labels file ${file} does not exist.`);
    return checkCategories(file, parseLabelsCsv(file, text), categories);
  }
  const csvPath = join(folder, LABELS_CSV);
  const csv = await readIfPresent(csvPath);
  if (csv !== undefined) return checkCategories(csvPath, parseLabelsCsv(csvPath, csv), categories);
  const json = await readLabels(folder);
  return json && checkCategories(join(folder, LABELS_FILE), json, categories);
}
