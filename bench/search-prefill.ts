import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createContextGuard } from "../src/context-guard/index.js";
import { startSimulator } from "../src/testing/index.js";
import {
  simulatedModelSpec,
  simulatorPopulation,
  trueUsableContext,
} from "../tests/context-guard/population.js";
import { median, table } from "./stats.js";

/**
 * What the context search costs in prompt processing: the tokens the server really prefilled for a
 * model's search (a slot's cached prefix is not processed again, as in LM Studio and llama.cpp), as a
 * ratio to the model's true usable context. On a real machine a 128k fill takes minutes, so this,
 * not the number of loads, is most of the search's time.
 */

const RESERVE = 256;

export async function benchSearchPrefill(): Promise<string> {
  const models = simulatorPopulation();
  const sim = await startSimulator({ loadTimeScale: 0, models: models.map(simulatedModelSpec) });
  const dir = await mkdtemp(join(tmpdir(), "bench-prefill-"));
  const ratios: number[] = [];
  const sent: number[] = [];
  const fills: number[] = [];
  try {
    const guard = createContextGuard({ baseUrl: sim.baseUrl, registryPath: join(dir, "registry.json") });
    for (const model of models) {
      const result = await guard.test(model.key, { seed: 11 });
      const usable = trueUsableContext(model, RESERVE);
      const { promptTokens, processedPromptTokens } = sim.kvTotals(model.key);
      ratios.push(processedPromptTokens / usable);
      sent.push(promptTokens / usable);
      fills.push(result.probes.filter((p) => p.levels.L1.skipped !== true).length);
    }
    await guard.close();
  } finally {
    await sim.close();
    await rm(dir, { recursive: true, force: true });
  }
  const fmt = (values: number[]) =>
    `${median(values).toFixed(1)}× / ${(values.reduce((a, b) => a + b, 0) / values.length).toFixed(1)}× / ${Math.max(...values).toFixed(1)}×`;
  return [
    `context search prefill: ${models.length} simulated models, tokens processed per model ÷ true usable context`,
    table(
      ["measure", "median / mean / max"],
      [
        ["tokens prefilled (after prefix reuse)", fmt(ratios)],
        ["prompt tokens sent", fmt(sent)],
        [
          "fills per model",
          `${median(fills)} / ${(fills.reduce((a, b) => a + b, 0) / fills.length).toFixed(1)} / ${Math.max(...fills)}`,
        ],
      ],
    ),
  ].join("\n");
}
