import type { ModelHost } from "../src/context-guard/index.js";

/**
 * LMStrix's context-testing strategies (../shared/reference/context-testing.md §1.5), re-implemented
 * over our ModelHost so they run against the same simulator as our search. What they share: a test
 * at N is "load at N, send the two short test prompts, unload"; the prompts never fill the context,
 * and the loaded context is not read back, so N is reported as tested even when the server gave less.
 *
 * One deliberate difference: LMStrix passes a test when the reply contains "96" or "5". The simulator
 * echoes rather than computes, so here any non-empty reply passes (LMStrix's rule for custom prompts).
 * That can only make the baselines look better: a real model's wrong arithmetic is not counted.
 */

export interface BaselineResult {
  /** The context the strategy would record as tested (0 when nothing passed). */
  reported: number;
  loads: number;
}

export interface BaselineModel {
  key: string;
  declared: number;
}

const TEST_PROMPTS = ["Write 'ninety-six' as a number using only digits", "2+3="];
/** LMStrix's `ctx_out` default, the answer budget of each test prompt. */
const CTX_OUT = 4096;

/** One LMStrix test load: load at N, two completions, unload in `finally`. */
class TestLoads {
  loads = 0;
  constructor(
    private readonly host: ModelHost,
    private readonly modelKey: string,
  ) {}

  async passes(contextLength: number): Promise<boolean> {
    this.loads += 1;
    const identifier = `lmstrix-baseline-${process.pid}-${this.loads}`;
    try {
      await this.host.load(this.modelKey, { identifier, contextLength, ttlSeconds: 300 });
    } catch {
      return false;
    }
    const ref = { identifier, type: "llm" as const };
    try {
      let passed = false;
      for (const prompt of TEST_PROMPTS) {
        const reply = await this.host
          .respond(ref, [{ role: "user", content: prompt }], { maxTokens: CTX_OUT })
          .catch(() => undefined);
        if (reply && reply.content.trim() !== "") passed = true;
      }
      return passed;
    } finally {
      await this.host.unload(ref).catch(() => undefined);
    }
  }
}

/**
 * `test_model_by_id(min=512, max=131072)`: binary search to one-token precision. The upper bound is
 * also capped at the declared maximum, which LM Studio would refuse to go past anyway.
 */
export async function exactBinarySearch(host: ModelHost, model: BaselineModel): Promise<BaselineResult> {
  const tests = new TestLoads(host, model.key);
  let low = 512;
  let high = Math.min(131_072, model.declared);
  let reported = 0;
  while (low <= high) {
    const mid = Math.floor((low + high) / 2);
    if (await tests.passes(mid)) {
      reported = mid;
      low = mid + 1;
    } else high = mid - 1;
  }
  return { reported, loads: tests.loads };
}

const LADDER = [120_000, 100_000, 80_000, 60_000, 40_000, 30_000];

/**
 * v1.0.52's "fixed context values": the ladder below the declared maximum, then declared − 1, in
 * that order; success at declared − 1 ends the test. On the first failure (4095 < N < declared) retry
 * at N × 0.9ⁿ up to ten times, stopping at or below 4095, then stop. A fresh run has no last-known-good
 * value, so no rung is skipped.
 */
export async function descendingLadder(host: ModelHost, model: BaselineModel): Promise<BaselineResult> {
  const tests = new TestLoads(host, model.key);
  const sizes = [...LADDER.filter((size) => size < model.declared), model.declared - 1];
  let reported = 0;
  for (const size of sizes) {
    if (await tests.passes(size)) {
      reported = Math.max(reported, size);
      if (size === model.declared - 1) break;
      continue;
    }
    if (size > 4095 && size < model.declared) {
      for (let retry = 1; retry <= 10; retry += 1) {
        const smaller = Math.floor(size * 0.9 ** retry);
        if (smaller <= 4095) break;
        if (await tests.passes(smaller)) {
          reported = Math.max(reported, smaller);
          break;
        }
      }
    }
    break;
  }
  return { reported, loads: tests.loads };
}

/** HEAD's `test_model`: one test load at `min(31744, declared)`. */
export async function singleLoadCap(host: ModelHost, model: BaselineModel): Promise<BaselineResult> {
  const tests = new TestLoads(host, model.key);
  const size = Math.min(31_744, model.declared);
  return { reported: (await tests.passes(size)) ? size : 0, loads: tests.loads };
}
