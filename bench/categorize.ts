import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCategorization } from "../examples/categorize/pipeline.js";
import { ensureSamples } from "../examples/categorize/samples.js";
import { formatRatio, median, ratios, table } from "./stats.js";

/**
 * The categorization pipeline (examples/categorize) over its generated sample set, at concurrency
 * 1, 2 and 4, against the same server. Each run starts over (no resume), so every document is classified.
 */

const LEVELS = [1, 2, 4] as const;

export async function benchCategorize(baseUrl: string, rounds: number): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "bench-categorize-"));
  const input = join(dir, "samples");
  await ensureSamples(input);
  const env = {
    ...process.env,
    LLM_PROVIDER: "lmstudio",
    LMSTUDIO_BASE_URL: baseUrl,
    LMSTUDIO_MODEL: "qwen2.5-7b-instruct",
    LMSTUDIO_VISION_MODEL: "qwen2-vl-2b-instruct",
  };
  const seconds: Record<number, number[]> = { 1: [], 2: [], 4: [] };
  let documents = 0;
  try {
    // One untimed run: JIT loads and the samples' first reads are not part of the throughput.
    await runCategorization({ input, out: join(dir, "warm"), concurrency: 2, resume: false, env });
    for (let round = 0; round < rounds; round += 1) {
      for (let i = 0; i < LEVELS.length; i += 1) {
        const concurrency = LEVELS[(i + round) % LEVELS.length]!;
        const started = performance.now();
        const run = await runCategorization({
          input,
          out: join(dir, `c${concurrency}`),
          concurrency,
          resume: false,
          env,
        });
        seconds[concurrency]!.push((performance.now() - started) / 1000);
        documents = run.records.length;
        const errors = run.records.filter(({ status }) => status === "error").length;
        if (errors > 0)
          throw new Error(
            `${errors} documents failed at concurrency ${concurrency}: ${run.records.find(({ status }) => status === "error")?.error}`,
          );
      }
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  const rate = (values: number[]) => values.map((s) => documents / s);
  const rows = LEVELS.map((c) => {
    const perSecond = rate(seconds[c]!);
    return [
      String(c),
      `${median(perSecond).toFixed(2)} (${Math.min(...perSecond).toFixed(2)}–${Math.max(...perSecond).toFixed(2)})`,
      c === 1 ? "1" : formatRatio(ratios(perSecond, rate(seconds[1]!))),
    ];
  });
  return `categorization pipeline: ${documents} sample documents per run (text, scanned PDF via vision, long record)\n${table(
    ["concurrency", "documents/s median (min–max)", "throughput vs concurrency 1"],
    rows,
  )}`;
}
