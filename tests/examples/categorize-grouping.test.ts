import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type PipelineEvent, runCategorization } from "../../examples/categorize/pipeline.js";
import { startSimulator } from "../../src/testing/index.js";

/**
 * Passes grouped by model: with LM Studio's auto-evict keeping one just-in-time model, a folder
 * that alternates scans and text costs a load per document in file order, and two when all the
 * vision documents go first. The simulator counts its loads and evictions.
 */

const PAIRS = 4;

async function scan(text: string): Promise<Buffer> {
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="320" height="120"><rect width="100%" height="100%" fill="#fff"/><text x="10" y="60" font-size="20">${text}</text></svg>`;
  return sharp(Buffer.from(svg)).png().toBuffer();
}

/** Scans and text files alternating in file order: 01 scan, 02 text, 03 scan, … */
async function alternatingFolder(folder: string): Promise<void> {
  await mkdir(folder, { recursive: true });
  for (let i = 0; i < PAIRS; i++) {
    const n = (k: number) => String(2 * i + k).padStart(2, "0");
    await writeFile(join(folder, `${n(1)}_receipt.png`), await scan(`RECEIPT ${i} TOTAL DUE 12.00`));
    await writeFile(
      join(folder, `${n(2)}_letter.txt`),
      `Dear Ms. Garcia,\n\nThank you for your letter ${i}.\n\nSincerely,\nA. Adjuster`,
    );
  }
}

async function runWithCounts(input: string, out: string, groupByModel: boolean) {
  const simulator = await startSimulator({ loadTimeScale: 0 });
  const events: PipelineEvent[] = [];
  try {
    const run = await runCategorization({
      input,
      out,
      concurrency: 1,
      groupByModel,
      env: {
        LLM_PROVIDER: "lmstudio",
        LMSTUDIO_BASE_URL: simulator.baseUrl,
        LMSTUDIO_MODEL: "qwen2.5-7b-instruct",
        LMSTUDIO_VISION_MODEL: "qwen2-vl-2b-instruct",
        LMSTUDIO_GUARD_REGISTRY: join(out, "registry.json"),
      },
      onEvent: (event) => events.push(event),
    });
    return { run, events, counts: simulator.loadCounts() };
  } finally {
    await simulator.close();
  }
}

describe("examples/categorize: passes grouped by model", () => {
  let root: string;
  let grouped: Awaited<ReturnType<typeof runWithCounts>>;
  let interleaved: Awaited<ReturnType<typeof runWithCounts>>;

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), "categorize-grouping-"));
    const input = join(root, "documents");
    await alternatingFolder(input);
    grouped = await runWithCounts(input, join(root, "grouped"), true);
    interleaved = await runWithCounts(input, join(root, "interleaved"), false);
  }, 120_000);

  afterAll(async () => {
    if (root) await rm(root, { recursive: true, force: true });
  });

  it("classifies every document either way, the scans with the vision model", () => {
    for (const { run } of [grouped, interleaved]) {
      expect(run.records).toHaveLength(2 * PAIRS);
      expect(run.records.every(({ status }) => status === "ok")).toBe(true);
      for (const record of run.records) expect(record.vision_used).toBe(record.file.endsWith(".png"));
    }
  });

  it("sends all vision documents first, then all text ones", () => {
    expect(grouped.events.find(({ type }) => type === "grouped")).toEqual({
      type: "grouped",
      vision: PAIRS,
      text: PAIRS,
    });
    const order = grouped.events.flatMap((event) => (event.type === "finished" ? [event.record.file] : []));
    expect(order.slice(0, PAIRS).every((file) => file.endsWith(".png"))).toBe(true);
    expect(order.slice(PAIRS).every((file) => file.endsWith(".txt"))).toBe(true);
  });

  it("loads each model once when grouped, and once per document in alternating file order", () => {
    expect(grouped.counts).toEqual({ loads: 2, jitEvictions: 1 });
    expect(interleaved.counts).toEqual({ loads: 2 * PAIRS, jitEvictions: 2 * PAIRS - 1 });
  });
});
