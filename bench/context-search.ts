import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createContextGuard, SdkModelHost } from "../src/context-guard/index.js";
import { startSimulator } from "../src/testing/index.js";
import {
  type PopulationModel,
  simulatedModelSpec,
  simulatorPopulation,
  trueUsableContext,
} from "../tests/context-guard/population.js";
import {
  type BaselineModel,
  type BaselineResult,
  descendingLadder,
  exactBinarySearch,
  singleLoadCap,
} from "./context-baselines.js";
import { median, table } from "./stats.js";

/**
 * Loads per model and accuracy of our context search against LMStrix's three strategies, on the
 * simulated population the context-guard tests use. Loads are the cost that matters (each one is
 * seconds to minutes on a real machine), so this counts them rather than timing the simulator.
 * Truth is the largest context whose prompts (up to context − answer reserve) really work.
 */

const RESERVE = 256;

interface Outcome {
  model: PopulationModel;
  reported: number;
  loads: number;
}

export async function benchContextSearch(): Promise<string> {
  const models = simulatorPopulation();
  const sim = await startSimulator({ loadTimeScale: 0, models: models.map(simulatedModelSpec) });
  const dir = await mkdtemp(join(tmpdir(), "bench-search-"));
  const host = new SdkModelHost({ baseUrl: sim.baseUrl });
  const strategies: Record<string, Outcome[]> = {};
  try {
    const guard = createContextGuard({ baseUrl: sim.baseUrl, registryPath: join(dir, "registry.json") });
    strategies["ours (grow ×4, bisect to 5 %, fill + recall)"] = [];
    for (const model of models) {
      const result = await guard.test(model.key, { seed: 11 });
      strategies["ours (grow ×4, bisect to 5 %, fill + recall)"].push({
        model,
        reported: result.status === "tested" ? (result.testedMax ?? 0) : 0,
        loads: result.loads,
      });
    }
    await guard.close();

    const baselines: Record<string, (model: BaselineModel) => Promise<BaselineResult>> = {
      "LMStrix exact binary search": (m) => exactBinarySearch(host, m),
      "LMStrix descending ladder + 10 % retries": (m) => descendingLadder(host, m),
      "LMStrix single load at min(31744, declared)": (m) => singleLoadCap(host, m),
    };
    for (const [name, strategy] of Object.entries(baselines)) {
      const outcomes: Outcome[] = [];
      for (const model of models)
        outcomes.push({ model, ...(await strategy({ key: model.key, declared: model.declared })) });
      strategies[name] = outcomes;
    }
  } finally {
    await host.close();
    await sim.close();
    await rm(dir, { recursive: true, force: true });
  }

  const rows = Object.entries(strategies).map(([name, outcomes]) => {
    const loads = outcomes.map((o) => o.loads);
    const accuracy = outcomes.map((o) => o.reported / trueUsableContext(o.model, RESERVE));
    const fails = outcomes.filter((o) => o.reported > trueUsableContext(o.model, RESERVE)).length;
    const within = accuracy.filter((a) => a >= 0.95 && a <= 1).length;
    const none = outcomes.filter((o) => o.reported === 0).length;
    return [
      name,
      `${median(loads)} / ${(loads.reduce((a, b) => a + b, 0) / loads.length).toFixed(1)} / ${Math.max(...loads)}`,
      String(loads.reduce((a, b) => a + b, 0)),
      `${median(accuracy).toFixed(2)} (${Math.min(...accuracy).toFixed(2)}–${Math.max(...accuracy).toFixed(2)})`,
      `${within}/${outcomes.length}`,
      `${fails}/${outcomes.length}`,
      `${none}`,
    ];
  });
  const ours = strategies["ours (grow ×4, bisect to 5 %, fill + recall)"]!;
  const totalOurs = ours.reduce((a, o) => a + o.loads, 0);
  const ratioLines = Object.entries(strategies)
    .filter(([name]) => !name.startsWith("ours"))
    .map(([name, outcomes]) => {
      const total = outcomes.reduce((a, o) => a + o.loads, 0);
      return `  ${name}: ${(total / totalOurs).toFixed(2)}× our loads`;
    });
  return [
    `context search: ${models.length} simulated models (declared 8k–256k; limits by load, fill, recall, auto-fit), answer reserve ${RESERVE}`,
    table(
      [
        "strategy",
        "loads median / mean / max",
        "loads total",
        "found/truth median (min–max)",
        "within 5 % of truth",
        "reported size fails",
        "nothing found",
      ],
      rows,
    ),
    ...ratioLines,
  ].join("\n");
}
