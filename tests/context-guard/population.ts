import { seededRandom } from "../../src/context-guard/haystack.js";
import type { SimulatedModelSpec } from "../../src/testing/index.js";

/**
 * A deterministic population of models with varied declared, loadable, fill and effective limits,
 * shared by the fake-host and the simulator-backed search tests.
 */
export interface PopulationModel {
  key: string;
  declared: number;
  loadLimit: number;
  fillLimit: number;
  effective: number;
  autoFitTo?: number;
  shape: string;
}

const DECLARED = [8192, 32768, 131072, 262144, 1048576];
const SHAPES = ["declared", "effective", "fill", "load", "load+effective", "autofit"] as const;

export function population(count: number, seed = 20_250_101): PopulationModel[] {
  const random = seededRandom(seed);
  const between = (lo: number, hi: number) => Math.round(lo + random() * (hi - lo));
  return Array.from({ length: count }, (_, i) => {
    const declared = DECLARED[i % DECLARED.length] ?? 32768;
    const shape = SHAPES[Math.floor(i / DECLARED.length) % SHAPES.length] ?? "declared";
    let loadLimit = declared;
    let fillLimit = declared;
    let effective = declared;
    let autoFitTo: number | undefined;
    switch (shape) {
      case "effective":
        effective = between(declared * 0.2, declared * 0.8);
        break;
      case "fill":
        fillLimit = between(declared * 0.3, declared * 0.9);
        break;
      case "load":
        loadLimit = between(declared * 0.25, declared * 0.9);
        break;
      case "load+effective":
        loadLimit = between(declared * 0.4, declared * 0.9);
        effective = between(loadLimit * 0.3, loadLimit * 0.8);
        break;
      case "autofit":
        autoFitTo = Math.max(4096, Math.round(between(declared * 0.1, declared * 0.6) / 1024) * 1024);
        break;
    }
    return {
      key: `pop-${String(i).padStart(2, "0")}-${shape}-${declared}`,
      declared,
      loadLimit,
      fillLimit,
      effective,
      ...(autoFitTo ? { autoFitTo } : {}),
      shape,
    };
  });
}

/**
 * The 32-model population the simulator-backed search test (and bench/context-search) runs: every
 * model up to 256k declared from two seeds. 1M-token haystacks would go over a real WebSocket, so
 * they are left to the fake-host suite.
 */
export function simulatorPopulation(): PopulationModel[] {
  const models = population(36).filter((m) => m.declared <= 262_144);
  const more = population(48, 7).filter((m) => m.declared <= 262_144);
  const extra = more.filter((m) => m.shape !== "declared").slice(0, Math.max(0, 32 - models.length));
  return [...models, ...extra.map((m) => ({ ...m, key: `${m.key}-b` }))];
}

/** The simulator's model spec for a population member. */
export function simulatedModelSpec(m: PopulationModel): SimulatedModelSpec {
  return {
    key: m.key,
    type: "llm",
    maxContextLength: m.declared,
    loadLimit: m.loadLimit,
    fillLimit: m.fillLimit,
    effectiveContext: m.effective,
    ...(m.autoFitTo ? { autoFitTo: m.autoFitTo } : {}),
  };
}

/** The largest context the guard may report, given an answer reserve of `reserve` tokens. */
export function trueUsableContext(m: PopulationModel, reserve: number): number {
  return Math.min(
    m.declared,
    m.loadLimit,
    m.autoFitTo ?? Number.POSITIVE_INFINITY,
    Math.min(m.fillLimit, m.effective) + reserve,
  );
}

/** The largest context that loads as asked: the guard must never report a larger one. */
export function trueLoadableContext(m: PopulationModel): number {
  return Math.min(m.declared, m.loadLimit, m.autoFitTo ?? Number.POSITIVE_INFINITY);
}

/** The largest prompt that really works: the guard must never admit a longer one. */
export function trueUsablePrompt(m: PopulationModel): number {
  return Math.min(m.fillLimit, m.effective, m.loadLimit, m.autoFitTo ?? Number.POSITIVE_INFINITY);
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}
