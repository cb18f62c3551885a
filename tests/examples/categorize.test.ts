import { appendFile, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type PipelineRun, runCategorization } from "../../examples/categorize/pipeline.js";
import { RESULT_COLUMNS, type ResultRecord } from "../../examples/categorize/result-record.js";
import { generateSamples } from "../../examples/categorize/samples.js";
import { ContextRegistry } from "../../src/context-guard/index.js";
import { DEFAULT_MODELS, type RunningSimulator, startSimulator } from "../../src/testing/index.js";

/** A strict RFC 4180 reader, written independently of the pipeline's writer so it can catch its mistakes. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = "";
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const char = text[i]!;
    if (quoted) {
      if (char === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (char === '"') quoted = false;
      else field += char;
    } else if (char === '"') {
      if (field !== "") throw new Error(`Quote inside an unquoted field at ${i}`);
      quoted = true;
    } else if (char === ",") {
      row.push(field);
      field = "";
    } else if (char === "\r" && text[i + 1] === "\n") {
      row.push(field);
      rows.push(row);
      row = [];
      field = "";
      i++;
    } else field += char;
  }
  if (quoted) throw new Error("Unterminated quoted field");
  if (field !== "" || row.length > 0) throw new Error("Last row has no line ending");
  return rows;
}

function asCsvCells(record: ResultRecord): string[] {
  return RESULT_COLUMNS.map((column) => {
    const value = record[column];
    return value === null ? "" : String(value);
  });
}

function pageSet(ranges: string): Set<number> {
  const pages = new Set<number>();
  for (const part of ranges.split(",").map((piece) => piece.trim())) {
    const [start, end = start] = part.split("-").map(Number);
    for (let page = start!; page <= end!; page++) pages.add(page);
  }
  return pages;
}

/** Chat requests that ask for a classification (structured output), not the one-word load warm-up. */
const classificationRequests = (simulator: RunningSimulator) =>
  simulator.requests.filter(
    ({ path, body }) =>
      path.startsWith("/v1/chat/completions") && (body as { response_format?: unknown }).response_format,
  );

describe("examples/categorize against the simulator", () => {
  let simulator: RunningSimulator;
  let root: string;
  let input: string;
  let out: string;
  let env: Record<string, string>;
  let labels: Record<string, string>;
  let first: PipelineRun;

  const byFile = (run: PipelineRun, file: string) => {
    const record = run.records.find((candidate) => candidate.file === file);
    if (!record) throw new Error(`No result for ${file}`);
    return record;
  };

  beforeAll(async () => {
    simulator = await startSimulator({ loadTimeScale: 0 });
    root = await mkdtemp(join(tmpdir(), "categorize-"));
    input = join(root, "documents");
    out = join(root, "results");
    labels = await generateSamples(input);
    await writeFile(
      join(input, "damaged_scan.pdf"),
      "%PDF-1.7\n1 0 obj << /Type /Catalog >> garbage, no xref",
    );
    env = {
      LLM_PROVIDER: "lmstudio",
      LMSTUDIO_BASE_URL: simulator.baseUrl,
      LMSTUDIO_MODEL: "qwen2.5-7b-instruct",
      LMSTUDIO_VISION_MODEL: "qwen2-vl-2b-instruct",
      // An empty registry of the test's own: the model is untested, so prompts fit the loaded context.
      LMSTUDIO_GUARD_REGISTRY: join(root, "registry.json"),
    };
    first = await runCategorization({ input, out, env, concurrency: 2 });
  }, 120_000);

  afterAll(async () => {
    await simulator?.close();
    if (root) await rm(root, { recursive: true, force: true });
  });

  it("gives exactly one result per input file, with every column", () => {
    const expectedFiles = [...Object.keys(labels), "damaged_scan.pdf"].sort();
    expect(first.records.map(({ file }) => file).sort()).toEqual(expectedFiles);
    expect(first.classified).toBe(expectedFiles.length);
    for (const record of first.records)
      expect(Object.keys(record).sort()).toEqual([...RESULT_COLUMNS].sort());
  });

  it("classifies the readable documents through the simulator's structured output", () => {
    const ok = first.records.filter(({ status }) => status === "ok");
    expect(ok).toHaveLength(Object.keys(labels).length);
    for (const record of ok) {
      expect(Object.values(labels)).toContain(record.category);
      expect(record.confidence).toBeGreaterThanOrEqual(0);
      expect(record.confidence).toBeLessThanOrEqual(1);
      expect(record.input_tokens).toBeGreaterThan(0);
      expect(record.requests).toBeGreaterThanOrEqual(1);
    }
    // Content decides, not the name: invoice_final.pdf is a motion.
    expect(byFile(first, "invoice_final.pdf").category).toBe("Pleading");
  });

  it("writes a CSV that parses back to the same rows as results.jsonl", async () => {
    const rows = parseCsv(await readFile(first.csvPath, "utf8"));
    expect(rows[0]).toEqual(RESULT_COLUMNS);
    const records = [...first.records].sort((a, b) => a.file.localeCompare(b.file));
    expect(rows.slice(1)).toEqual(records.map(asCsvCells));
    const jsonl = (await readFile(first.jsonlPath, "utf8"))
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line));
    expect(jsonl).toHaveLength(records.length);
  });

  it("sends the image-only page and the image file to the vision model, and text PDFs to the text model", () => {
    const scanned = byFile(first, "scanned_lab_report.pdf");
    expect(scanned).toMatchObject({
      status: "ok",
      vision_used: true,
      pages_used: "1",
      model: "qwen2-vl-2b-instruct",
    });
    expect(byFile(first, "pharmacy_receipt.png").vision_used).toBe(true);
    expect(byFile(first, "garcia_clinic_visit.pdf")).toMatchObject({
      vision_used: false,
      model: "qwen2.5-7b-instruct",
    });
    const withImages = classificationRequests(simulator).filter(({ body }) =>
      JSON.stringify(body).includes("data:image/png;base64,"),
    );
    expect(withImages).toHaveLength(2);
    for (const { body } of withImages) expect((body as { model: string }).model).toBe("qwen2-vl-2b-instruct");
  });

  it("fits the long record into the 4096-token JIT context with head and tail pages", () => {
    const long = byFile(first, "long_medical_record.pdf");
    expect(long.page_count).toBe(16);
    expect(long.method).toBe("head+tail");
    const used = pageSet(long.pages_used);
    expect(used.has(1)).toBe(true);
    expect(used.has(16)).toBe(true);
    expect(used.size).toBeLessThan(16);
    expect(used.has(8)).toBe(false);
    expect(long.input_tokens).toBeLessThan(4096);
  });

  it("records a corrupt PDF as an error without stopping the run", () => {
    const damaged = byFile(first, "damaged_scan.pdf");
    expect(damaged.status).toBe("error");
    expect(damaged.error).toMatch(/PDF/);
    expect(damaged.category).toBe("");
  });

  it("resumes: a second run skips every finished file and makes no model requests", async () => {
    const before = simulator.requests.length;
    const second = await runCategorization({ input, out, env });
    expect(second.classified).toBe(0);
    expect(second.skipped).toBe(first.records.length);
    expect(simulator.requests.length).toBe(before);
    expect(second.records).toEqual(first.records);
  });

  it("after an interrupted write, classifies only the missing file and keeps the log readable", async () => {
    const lines = (await readFile(first.jsonlPath, "utf8")).trim().split("\n");
    const kept = lines.filter((line) => !line.includes('"file":"st_marys_statement.pdf"'));
    // The last line cut mid-record, as a killed process could leave it.
    await writeFile(first.jsonlPath, `${kept.join("\n")}\n`);
    await appendFile(first.jsonlPath, '{"file":"st_marys_statement.pdf","status":"o');
    const requestsBefore = classificationRequests(simulator).length;
    const third = await runCategorization({ input, out, env });
    expect(third.classified).toBe(1);
    expect(classificationRequests(simulator).length - requestsBefore).toBe(1);
    expect(byFile(third, "st_marys_statement.pdf")).toMatchObject({ status: "ok", category: "Bill" });
    expect(third.records).toHaveLength(first.records.length);
  });

  it("votes page by page when the first pass is under the threshold", async () => {
    const voteOut = join(root, "vote-results");
    const run = await runCategorization({ input, out: voteOut, env, voteBelow: 1.01, maxVotePages: 3 });
    const long = byFile(run, "long_medical_record.pdf");
    expect(long.method).toBe("page-vote");
    // The head+tail pass plus three single pages (1, middle, last).
    expect(long.requests).toBe(4);
    // Head + tail covers 1-4 and 13-16; the vote adds the middle page.
    expect([...pageSet(long.pages_used)].some((page) => page > 4 && page < 13)).toBe(true);
    expect(byFile(run, "st_marys_statement.pdf").method).toBe("whole");
  });
});

describe("examples/categorize with the context guard", () => {
  const textModel = "qwen2.5-7b-instruct";
  // Declares 32768 but recalls only up to 6144 prompt tokens: the guard has to find that.
  const effectiveContext = 6144;
  let simulator: RunningSimulator;
  let root: string;
  let run: PipelineRun;
  let registryPath: string;

  beforeAll(async () => {
    simulator = await startSimulator({
      loadTimeScale: 0,
      models: DEFAULT_MODELS.map((model) =>
        model.key === textModel ? { ...model, effectiveContext } : model,
      ),
    });
    root = await mkdtemp(join(tmpdir(), "categorize-guard-"));
    registryPath = join(root, "registry.json");
    const input = join(root, "documents");
    await generateSamples(input);
    run = await runCategorization({
      input,
      out: join(root, "results"),
      testContextFirst: true,
      env: {
        LLM_PROVIDER: "lmstudio",
        LMSTUDIO_BASE_URL: simulator.baseUrl,
        LMSTUDIO_MODEL: textModel,
        LMSTUDIO_VISION_MODEL: "qwen2-vl-2b-instruct",
        LMSTUDIO_GUARD_REGISTRY: registryPath,
      },
    });
  }, 180_000);

  afterAll(async () => {
    await simulator?.close();
    if (root) await rm(root, { recursive: true, force: true });
  });

  it("tests the model first and records its usable context in the registry", async () => {
    const entries = await new ContextRegistry(registryPath).entries();
    const entry = entries.find((candidate) => candidate.modelKey === textModel);
    expect(entry?.status).toBe("tested");
    expect(entry?.declaredMax).toBe(32768);
    expect(entry?.usablePromptTokens).toBeLessThanOrEqual(effectiveContext);
    expect(entry?.usablePromptTokens).toBeGreaterThan(4096);
  });

  it("sends text requests to the instance the guard loaded at the tested context", async () => {
    const models = simulator.requests
      .filter(({ path }) => path === "/v1/chat/completions")
      .map(({ body }) => (body as { model: string }).model);
    const toGuard = models.filter((model) => /^qwen2\.5-7b-instruct@guard-\d+$/.test(model));
    // Text goes only through the guard's instance; the rest are page images for the vision model.
    expect(toGuard.length).toBeGreaterThanOrEqual(10);
    expect(models.filter((model) => !toGuard.includes(model))).toEqual(
      expect.arrayContaining(["qwen2-vl-2b-instruct"]),
    );
    expect(new Set(models.filter((model) => !toGuard.includes(model)))).toEqual(
      new Set(["qwen2-vl-2b-instruct"]),
    );
    // The instance is named for the context it was loaded at: the tested one, not JIT's 4096.
    const entry = (await new ContextRegistry(registryPath).entries()).find(
      ({ modelKey }) => modelKey === textModel,
    );
    expect(new Set(toGuard)).toEqual(new Set([`${textModel}@guard-${entry?.testedMax}`]));
    expect(entry?.testedMax).toBeGreaterThan(4096);
    // The pipeline closed its guard, which unloads what the guard loaded.
    expect(simulator.loaded().some(({ identifier }) => identifier.includes("@guard-"))).toBe(false);
  });

  it("sizes the long record to the tested context: more pages than JIT's 4096 allows, never past the limit", () => {
    const long = run.records.find(({ file }) => file === "long_medical_record.pdf");
    expect(long?.status).toBe("ok");
    expect(long?.method).toBe("head+tail");
    expect(long?.input_tokens).toBeGreaterThan(4096);
    expect(long?.input_tokens).toBeLessThanOrEqual(effectiveContext);
    expect(run.records.every(({ status }) => status === "ok")).toBe(true);
  });
});
