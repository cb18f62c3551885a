import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CategoriesFileError, type Category, loadCategories } from "../../examples/categorize/categories.js";
import { classificationSchema } from "../../examples/categorize/classification-schema.js";
import { evaluate } from "../../examples/categorize/evaluation.js";
import { LabelsFileError, loadLabels } from "../../examples/categorize/labels.js";
import { systemPrompt } from "../../examples/categorize/prompt.js";
import { evaluationSummary } from "../../examples/categorize/report.js";
import { errorRecord, type ResultRecord } from "../../examples/categorize/result-record.js";
import { writeReport } from "../../examples/categorize/write-report.js";

const CATEGORIES = ["Bill", "Pleading", "Other"];

function ok(file: string, category: string, confidence: number): ResultRecord {
  return {
    ...errorRecord(file, new Error("unused"), 10),
    status: "ok",
    category,
    confidence,
    reason: `Looks like a ${category}.`,
    evidence_quote: `quote from ${file}`,
    evidence_page: 2,
    evidence_verified: file !== "f5.pdf",
    error: "",
  };
}

/**
 * A fixed result set and its confusion matrix worked out by hand (rows: label, columns: answer,
 * order Bill, Pleading, Other):
 *   Bill      [2, 1, 0]   f1 f2 right, f3 -> Pleading
 *   Pleading  [1, 2, 0]   f4 f6 right, f5 -> Bill
 *   Other     [0, 1, 1]   f7 right, f8 -> Pleading
 * f9 (confidence 0.4 < 0.6) abstains, f10 failed, f11 has no label, f12 has a label and no result.
 * Bill: P 2/3, R 2/3, F1 2/3.  Pleading: P 2/4, R 2/3, F1 4/7.  Other: P 1/1, R 1/2, F1 2/3.
 * Macro: P 0.722, R 0.611, F1 0.635.  Correct 5 of 8 decided (62.5 %).
 */
const RECORDS: ResultRecord[] = [
  ok("f1.pdf", "Bill", 0.9),
  ok("f2.pdf", "Bill", 0.8),
  ok("f3.pdf", "Pleading", 0.7),
  ok("f4.pdf", "Pleading", 0.95),
  ok("f5.pdf", "Bill", 0.65),
  ok("f6.pdf", "Pleading", 0.9),
  ok("f7.pdf", "Other", 0.99),
  ok("f8.pdf", "Pleading", 0.61),
  ok("f9.pdf", "Other", 0.4),
  errorRecord("f10.pdf", new Error("PDF is damaged"), 5),
  ok("f11.pdf", "Bill", 0.9),
];
const LABELS: Record<string, string> = {
  "f1.pdf": "Bill",
  "f2.pdf": "Bill",
  "f3.pdf": "Bill",
  "f4.pdf": "Pleading",
  "f5.pdf": "Pleading",
  "f6.pdf": "Pleading",
  "f7.pdf": "Other",
  "f8.pdf": "Other",
  "f9.pdf": "Bill",
  "f10.pdf": "Other",
  "f12.pdf": "Bill",
};

/** The text of every cell of the HTML table after `heading`, row by row. */
function tableAfter(html: string, heading: string): string[][] {
  const start = html.indexOf(heading);
  if (start < 0) throw new Error(`no ${heading}`);
  const table = html.slice(html.indexOf("<table", start), html.indexOf("</table>", start));
  return [...table.matchAll(/<tr[^>]*>(.*?)<\/tr>/g)].map(([, row]) =>
    [...row!.matchAll(/<t[hd][^>]*>(.*?)<\/t[hd]>/g)].map(([, cell]) => cell!.replace(/<[^>]+>/g, "")),
  );
}

describe("evaluation against known labels", () => {
  let root: string;
  let html: string;
  let summary: string;

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), "categorize-eval-"));
    const written = await writeReport({
      out: root,
      records: RECORDS,
      categoryNames: CATEGORIES,
      labels: LABELS,
      abstainBelow: 0.6,
    });
    html = await readFile(written.path, "utf8");
    summary = evaluationSummary(written.evaluation!, written.path);
  });

  afterAll(async () => {
    if (root) await rm(root, { recursive: true, force: true });
  });

  it("computes the hand-worked confusion matrix and scores", () => {
    const evaluation = evaluate(RECORDS, LABELS, CATEGORIES, 0.6);
    expect(evaluation.matrix).toEqual([
      [2, 1, 0],
      [1, 2, 0],
      [0, 1, 1],
    ]);
    expect(evaluation).toMatchObject({ labelled: 10, decided: 8, correct: 5, withoutResult: ["f12.pdf"] });
    const scores = Object.fromEntries(evaluation.classes.map((c) => [c.category, c]));
    expect(scores.Bill).toMatchObject({ support: 3, predicted: 3, truePositives: 2 });
    expect(scores.Bill!.precision).toBeCloseTo(2 / 3, 10);
    expect(scores.Bill!.recall).toBeCloseTo(2 / 3, 10);
    expect(scores.Pleading!.precision).toBeCloseTo(0.5, 10);
    expect(scores.Pleading!.f1).toBeCloseTo(4 / 7, 10);
    expect(scores.Other!.precision).toBeCloseTo(1, 10);
    expect(scores.Other!.recall).toBeCloseTo(0.5, 10);
    expect(evaluation.macro.precision).toBeCloseTo((2 / 3 + 0.5 + 1) / 3, 10);
    expect(evaluation.macro.recall).toBeCloseTo((2 / 3 + 2 / 3 + 0.5) / 3, 10);
    expect(evaluation.macro.f1).toBeCloseTo((2 / 3 + 4 / 7 + 2 / 3) / 3, 10);
    expect(evaluation.abstentions).toEqual([
      { file: "f9.pdf", expected: "Bill", got: "Other", confidence: 0.4 },
    ]);
    expect(evaluation.errors).toEqual([
      { file: "f10.pdf", expected: "Other", error: "Error: PDF is damaged" },
    ]);
    expect(evaluation.misclassified.map(({ file, expected, got }) => [file, expected, got])).toEqual([
      ["f3.pdf", "Bill", "Pleading"],
      ["f5.pdf", "Pleading", "Bill"],
      ["f8.pdf", "Other", "Pleading"],
    ]);
  });

  it("puts the same matrix in the HTML", () => {
    expect(tableAfter(html, 'id="confusion"')).toEqual([
      ["true ↓ / predicted →", "Bill", "Pleading", "Other"],
      ["Bill", "2", "1", "0"],
      ["Pleading", "1", "2", "0"],
      ["Other", "0", "1", "1"],
    ]);
  });

  it("puts the per-class and macro scores in the HTML, and a bar per score in the chart", () => {
    expect(tableAfter(html, 'id="scores"')).toEqual([
      ["category", "precision", "recall", "F1", "labelled", "predicted"],
      ["Bill", "0.667", "0.667", "0.667", "3", "3"],
      ["Pleading", "0.500", "0.667", "0.571", "3", "4"],
      ["Other", "1.000", "0.500", "0.667", "2", "1"],
      ["macro average", "0.722", "0.611", "0.635", "8", "8"],
    ]);
    const bars = [
      ...html.matchAll(
        /<rect [^>]*height="([\d.]+)" fill="#(?:4e79a7|f28e2b|59a14f)"><title>([^<]+)<\/title>/g,
      ),
    ];
    expect(bars).toHaveLength(9);
    // 180 px is a score of 1.
    const pleadingPrecision = bars.find(([, , title]) => title === "Pleading precision 0.500");
    expect(Number(pleadingPrecision?.[1])).toBeCloseTo(90, 5);
  });

  it("lists misclassified files with the model's evidence, abstentions and errors apart", () => {
    expect(html).toContain("5 of 8 decided documents correct (62.5 %)");
    expect(html).toContain("1 abstained, 1 failed, 10 labelled in all");
    const misses = tableAfter(html, 'id="misclassified"');
    expect(misses).toHaveLength(4);
    expect(misses[2]).toEqual([
      "f5.pdf",
      "Pleading",
      "Bill",
      "0.65",
      "quote from f5.pdf (page 2, not found in the text)",
      "Looks like a Bill.",
    ]);
    expect(tableAfter(html, 'id="abstentions"')).toEqual([
      ["file", "labelled", "leaning to", "confidence"],
      ["f9.pdf", "Bill", "Other", "0.4"],
    ]);
    expect(tableAfter(html, 'id="errors"')[1]).toEqual(["f10.pdf", "Other", "Error: PDF is damaged"]);
    expect(html).toContain("Labelled but not classified (1)");
  });

  it("is self-contained: no scripts, nothing loaded from elsewhere", () => {
    expect(html).not.toMatch(/<script|<link|src=|url\(|https?:\/\/(?!www\.w3\.org\/2000\/svg)/);
  });

  it("escapes file names and model text", async () => {
    const hostile = ok("<img src=x onerror=alert(1)>.pdf", "Bill", 0.9);
    const written = await writeReport({
      out: root,
      records: [{ ...hostile, reason: "<script>alert(1)</script>" }],
      categoryNames: CATEGORIES,
      labels: { [hostile.file]: "Pleading" },
      abstainBelow: 0.6,
    });
    const text = await readFile(written.path, "utf8");
    expect(text).not.toContain("<script>");
    expect(text).not.toContain("<img");
    expect(text).toContain("&lt;script&gt;alert(1)&lt;/script&gt;");
  });

  it("prints a short terminal summary with the weakest classes and the report path", () => {
    const lines = summary.split("\n");
    expect(lines[0]).toBe(
      "Evaluation: 5/8 decided documents correct (62.5%), macro F1 0.635; 1 abstained (confidence < 0.6), 1 failed.",
    );
    expect(lines[1]).toBe("  Pleading: precision 0.500, recall 0.667, F1 0.571");
    expect(lines.at(-1)).toBe(`Report: ${join(root, "report.html")}`);
  });
});

describe("labels and categories files", () => {
  let root: string;
  const categories: Category[] = CATEGORIES.map((name) => ({ name, description: "", examples: [] }));

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), "categorize-files-"));
  });
  afterAll(async () => {
    if (root) await rm(root, { recursive: true, force: true });
  });

  it("reads labels.csv from the folder, with or without a header, quoted names included", async () => {
    await writeFile(join(root, "labels.csv"), 'file,category\n"a, b.pdf",Bill\nsub\\c.txt,Other\n');
    expect(await loadLabels(root, categories)).toEqual({ "a, b.pdf": "Bill", "sub/c.txt": "Other" });
    const explicit = join(root, "mine.csv");
    await writeFile(explicit, "x.pdf,Pleading\n");
    expect(await loadLabels(root, categories, explicit)).toEqual({ "x.pdf": "Pleading" });
  });

  it("refuses a labels file that names an unknown category, has a bad row, or is missing", async () => {
    const bad = join(root, "bad.csv");
    await writeFile(bad, "x.pdf,Invoice\ny.pdf,Bill\n");
    await expect(loadLabels(root, categories, bad)).rejects.toThrow(
      new LabelsFileError(
        `Labels file ${bad} names categories that are not in the categories file: Invoice.`,
      ),
    );
    await writeFile(bad, "x.pdf,Bill,extra\n");
    await expect(loadLabels(root, categories, bad)).rejects.toBeInstanceOf(LabelsFileError);
    await expect(loadLabels(root, categories, join(root, "none.csv"))).rejects.toThrow(/does not exist/);
  });

  it("reads descriptions and examples, puts the examples in the prompt and only the names in the enum", async () => {
    const file = join(root, "categories.toml");
    await writeFile(
      file,
      '[[categories]]\nname = "Bill"\ndescription = "A request for payment."\nexamples = ["invoice", "EOB"]\n\n' +
        '[[categories]]\nname = "Other"\ndescription = "Anything else."\n',
    );
    const loaded = await loadCategories(file);
    expect(loaded).toEqual([
      { name: "Bill", description: "A request for payment.", examples: ["invoice", "EOB"] },
      { name: "Other", description: "Anything else.", examples: [] },
    ]);
    expect(systemPrompt(loaded)).toContain("- Bill: A request for payment. Examples: invoice; EOB.");
    const schema = classificationSchema(loaded);
    const answer = { confidence: 0.9, evidence: { quote: "x", page: 1 }, reason: "r" };
    expect(schema.safeParse({ ...answer, category: "Bill" }).success).toBe(true);
    expect(schema.safeParse({ ...answer, category: "Invoice" }).success).toBe(false);
  });

  it("names the file and the problem for a missing or invalid categories file", async () => {
    await expect(loadCategories(join(root, "missing.json"))).rejects.toBeInstanceOf(CategoriesFileError);
    const broken = join(root, "broken.json");
    await writeFile(broken, "{ not json");
    await expect(loadCategories(broken)).rejects.toThrow(
      new RegExp(`Categories file ${broken} is not valid`),
    );
    await writeFile(broken, JSON.stringify({ categories: [{ name: "Only" }] }));
    await expect(loadCategories(broken)).rejects.toThrow(/at least two categories/);
  });
});
