import type { Labels } from "./labels.js";
import type { ResultRecord } from "./result-record.js";

/**
 * How the results compare with known labels. A result under the vote threshold is an abstention:
 * the model said it is unsure, so it is counted apart and left out of precision and recall, as
 * is a document that failed. The confusion matrix covers the decided documents only.
 */

export interface ClassScores {
  category: string;
  /** Labelled documents of this category that were decided. */
  support: number;
  /** Decided documents the model put in this category. */
  predicted: number;
  truePositives: number;
  /** Undefined when the model never predicted the class (nothing to be precise about). */
  precision: number | undefined;
  /** Undefined when no decided document has this label. */
  recall: number | undefined;
  /** Undefined only when the class has neither labels nor predictions. */
  f1: number | undefined;
}

export interface Misclassification {
  file: string;
  expected: string;
  got: string;
  confidence: number;
  evidenceQuote: string;
  evidencePage: number | null;
  evidenceVerified: boolean;
  reason: string;
}

export interface Evaluation {
  /** Category order of the matrix rows (true label) and columns (prediction). */
  categories: string[];
  /** matrix[true][predicted], decided documents only. */
  matrix: number[][];
  classes: ClassScores[];
  /** Unweighted mean over the classes that have a score. */
  macro: { precision: number | undefined; recall: number | undefined; f1: number | undefined };
  labelled: number;
  decided: number;
  correct: number;
  abstainBelow: number;
  abstentions: Array<{ file: string; expected: string; got: string; confidence: number }>;
  errors: Array<{ file: string; expected: string; error: string }>;
  misclassified: Misclassification[];
  /** Labelled files with no result (not in the input folder, or not classified yet). */
  withoutResult: string[];
}

function ratio(numerator: number, denominator: number): number | undefined {
  return denominator === 0 ? undefined : numerator / denominator;
}

function mean(values: ReadonlyArray<number | undefined>): number | undefined {
  const present = values.filter((value): value is number => value !== undefined);
  return present.length === 0 ? undefined : present.reduce((sum, value) => sum + value, 0) / present.length;
}

export function evaluate(
  records: readonly ResultRecord[],
  labels: Labels,
  categoryNames: readonly string[],
  abstainBelow: number,
): Evaluation {
  const categories = [...categoryNames];
  const index = new Map(categories.map((name, i) => [name, i]));
  const matrix = categories.map(() => categories.map(() => 0));
  const result: Omit<Evaluation, "classes" | "macro"> = {
    categories,
    matrix,
    labelled: 0,
    decided: 0,
    correct: 0,
    abstainBelow,
    abstentions: [],
    errors: [],
    misclassified: [],
    withoutResult: [],
  };
  const seen = new Set<string>();
  for (const record of records) {
    const expected = labels[record.file];
    if (expected === undefined) continue;
    seen.add(record.file);
    result.labelled++;
    if (record.status === "error") {
      result.errors.push({ file: record.file, expected, error: record.error });
      continue;
    }
    const confidence = record.confidence ?? 0;
    if (confidence < abstainBelow) {
      result.abstentions.push({ file: record.file, expected, got: record.category, confidence });
      continue;
    }
    const row = index.get(expected);
    const column = index.get(record.category);
    if (row === undefined || column === undefined) {
      throw new Error(`${record.file}: "${expected}" or "${record.category}" is not a category.`);
    }
    matrix[row]![column]!++;
    result.decided++;
    if (row === column) {
      result.correct++;
      continue;
    }
    result.misclassified.push({
      file: record.file,
      expected,
      got: record.category,
      confidence,
      evidenceQuote: record.evidence_quote,
      evidencePage: record.evidence_page,
      evidenceVerified: record.evidence_verified,
      reason: record.reason,
    });
  }
  result.withoutResult = Object.keys(labels)
    .filter((file) => !seen.has(file))
    .sort();
  const classes = categories.map((category, i): ClassScores => {
    const truePositives = matrix[i]![i]!;
    const support = matrix[i]!.reduce((sum, count) => sum + count, 0);
    const predicted = matrix.reduce((sum, row) => sum + row[i]!, 0);
    const precision = ratio(truePositives, predicted);
    const recall = ratio(truePositives, support);
    // 2TP / (2TP + FP + FN): the harmonic mean of precision and recall, and 0 (not undefined) for a
    // class the model never predicted, so a missed class pulls the macro average down.
    const f1 = ratio(2 * truePositives, support + predicted);
    return { category, support, predicted, truePositives, precision, recall, f1 };
  });
  return {
    ...result,
    classes,
    macro: {
      precision: mean(classes.map(({ precision }) => precision)),
      recall: mean(classes.map(({ recall }) => recall)),
      f1: mean(classes.map(({ f1 }) => f1)),
    },
  };
}
