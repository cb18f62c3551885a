import type { FailureKind, ProbeRecord, RegistryEntry } from "./registry-schema.js";

/**
 * The context search's decisions, as pure functions of what has been probed so far (no host, no
 * clock, no I/O): given the probe history, the next size to try, or done. `search.ts` runs the probes
 * this asks for and journals them.
 *
 * 1. Grow geometrically from a safe start until the first failure or the declared maximum. A load
 *    far above the largest pass first fills the geometric midpoint on it, then its own size: fills
 *    on one instance reuse the server's prefix cache, so this costs no more prefill when both pass
 *    and half as much when the midpoint already fails.
 * 2. Bisect (geometric midpoints) until the gap is within the resolution (or `minStepTokens`). Where
 *    the next size needs a load, LM Studio's estimate (free, no load) is asked first, and bisection
 *    runs on the estimates until they converge; only then is the size they point to loaded. A load
 *    failure there is believed over the estimate and bisection goes on below it.
 * 3. A size verified only on a larger instance ("fill-only") is confirmed by its own load at the end
 *    (L0 only: the fill already passed at that size), and one load is always kept back for that.
 * 4. A probe that lost its connection is the transport's fault, not the size's: it is tried once more,
 *    and the lost attempt no longer counts as a failure.
 */

export interface SearchPlanConfig {
  declaredMax: number;
  safeStart: number;
  growthFactor: number;
  resolution: number;
  minStepTokens: number;
  granularity: number;
  maxLoads: number;
  retryDisconnects: boolean;
  /** Ask LM Studio's load estimate before a bisection load. */
  useEstimates: boolean;
  /** Prompt tokens assumed for a passed fill that reported no count: the size minus this reserve. */
  answerReserve: number;
}

/** What a probe step asks the driver to do. */
export type ProbeStep =
  /**
   * Fill this size on the current instance when it is large enough, else on a new one loaded at
   * `instanceSize` (default: the size itself).
   */
  | { kind: "probe"; size: number; instanceSize?: number }
  /**
   * Drop the instance and load `verified.size` on its own (L0 and read-back); its fill already passed
   * on a larger instance. `last`: the budget ends the search after it.
   */
  | { kind: "confirm"; size: number; verified: VerifiedSize; last: boolean }
  /** The previous probe lost its connection: the same size once more. */
  | { kind: "retry"; size: number };

/** Ask LM Studio's load estimate for a size (no load); a refusal is recorded as a failed probe. */
export interface EstimateStep {
  kind: "estimate";
  size: number;
}

export type SearchStep = ProbeStep | EstimateStep | { kind: "done"; exhausted: boolean };

/** One probe the driver ran (or an estimate that refused a size): the step and what it recorded. */
export interface ProbeAttempt {
  step: ProbeStep | EstimateStep;
  record: ProbeRecord;
}

/** An estimate's answer: `passes` undefined when the server gave none. */
export interface EstimateAnswer {
  size: number;
  passes: boolean | undefined;
}

/** A size that passed the fill levels. */
export interface VerifiedSize {
  size: number;
  promptTokens: number;
  timeToFirstTokenSec?: number;
  tokensPerSecond?: number;
}

/** What an earlier run left in the registry that this run starts from. */
export interface ResumedState {
  /** Passed with a load at exactly that size. */
  full: VerifiedSize[];
  /** Passed on a larger instance only. */
  fillOnly: VerifiedSize[];
  firstBad?: number;
  failureKind?: FailureKind;
}

export interface SearchHistory {
  resumed: ResumedState;
  /** This run's probes, in order. */
  attempts: readonly ProbeAttempt[];
  /** Loads so far, counting those of a resumed run. */
  loads: number;
  /** Context of the instance the driver holds, if any (it serves fill tests at any smaller size). */
  instanceContext?: number;
  /** This run's estimate answers (kept out of the registry: they are free to ask again). */
  estimates?: readonly EstimateAnswer[];
}

/** The bounds a history proves. */
export interface SearchBounds {
  full: VerifiedSize[];
  fillOnly: VerifiedSize[];
  /** Smallest size that failed (never reported, nor anything above it). */
  firstBad?: number;
  failureKind?: FailureKind;
  /** Largest size that passed with its own load, below firstBad. */
  bestFull?: VerifiedSize;
  /** Largest size that passed at all, below firstBad. */
  bestAny?: VerifiedSize;
}

/**
 * The starting point from a registry entry: resuming takes back every passed probe and the failure
 * bound; a fresh start keeps only the failure bound, which then can only come from a dead run's
 * "probing N" marker (see journal.ts).
 */
export function resumedStateOf(entry: RegistryEntry | undefined, everything: boolean): ResumedState {
  const resumed: ResumedState = { full: [], fillOnly: [] };
  if (!entry) return resumed;
  if (everything) {
    for (const record of entry.probes.filter((r) => r.passed)) {
      const verified = {
        size: record.contextLength,
        promptTokens: record.promptTokens ?? record.expectedPromptTokens ?? 0,
      };
      (record.loaded ? resumed.full : resumed.fillOnly).push(verified);
    }
  }
  if (entry.firstBad !== undefined) {
    resumed.firstBad = entry.firstBad;
    if (entry.failureKind) resumed.failureKind = entry.failureKind;
  }
  return resumed;
}

function roundDownTo(granularity: number, n: number): number {
  return Math.max(granularity, Math.floor(n / granularity) * granularity);
}

/** A load that came back smaller than asked (auto-fit): what it gave. */
function autoFitContext(record: ProbeRecord): number | undefined {
  const loadFailed = record.loaded && !record.passed && !record.levels.L0.passed;
  return loadFailed && record.loadedContext !== undefined && record.loadedContext < record.contextLength
    ? record.loadedContext
    : undefined;
}

/** Whether attempt `index` was tried again (and so no longer counts). */
function wasRetried(attempts: readonly ProbeAttempt[], index: number): boolean {
  return attempts[index + 1]?.step.kind === "retry";
}

export function boundsOf(config: SearchPlanConfig, history: SearchHistory): SearchBounds {
  const full = [...history.resumed.full];
  const fillOnly = [...history.resumed.fillOnly];
  let firstBad: number | undefined;
  let failureKind: FailureKind | undefined;
  const noteBad = (size: number, kind: FailureKind | undefined) => {
    if (firstBad === undefined || size <= firstBad) {
      firstBad = size;
      failureKind = kind;
    }
  };
  if (history.resumed.firstBad !== undefined) noteBad(history.resumed.firstBad, history.resumed.failureKind);

  history.attempts.forEach(({ record }, index) => {
    const size = record.contextLength;
    if (record.passed) {
      const verified: VerifiedSize = {
        size,
        promptTokens: record.promptTokens ?? record.expectedPromptTokens ?? size - config.answerReserve,
        ...(record.timeToFirstTokenSec !== undefined
          ? { timeToFirstTokenSec: record.timeToFirstTokenSec }
          : {}),
        ...(record.tokensPerSecond !== undefined ? { tokensPerSecond: record.tokensPerSecond } : {}),
      };
      (record.loaded ? full : fillOnly).push(verified);
      return;
    }
    if (wasRetried(history.attempts, index)) return;
    // Auto-fit gave less than asked: sizes above what it gave are out of reach.
    const gave = autoFitContext(record);
    const reachable = gave !== undefined ? roundDownTo(config.granularity, gave) + config.granularity : size;
    noteBad(Math.min(size, reachable), record.failureKind);
  });

  const below = (v: VerifiedSize) => firstBad === undefined || v.size < firstBad;
  const largest = (sizes: VerifiedSize[]) => sizes.filter(below).sort((a, b) => b.size - a.size)[0];
  const bestFull = largest(full);
  const bestAny = largest([...full, ...fillOnly]);
  return {
    full,
    fillOnly,
    ...(firstBad !== undefined ? { firstBad } : {}),
    ...(failureKind !== undefined ? { failureKind } : {}),
    ...(bestFull ? { bestFull } : {}),
    ...(bestAny ? { bestAny } : {}),
  };
}

/** The size a growth or bisection step tries next, or undefined when there is none. */
function nextSize(
  config: SearchPlanConfig,
  bounds: SearchBounds,
  hint: number | undefined,
  instanceContext: number | undefined,
  lo = bounds.bestAny?.size ?? 0,
): number | undefined {
  const { declaredMax: declared, granularity } = config;
  const roundDown = (n: number) => roundDownTo(granularity, n);
  const hi = bounds.firstBad ?? declared + 1;
  if (lo >= declared) return undefined;
  if (hint !== undefined && hint > lo && hint < hi) return hint;
  if (bounds.firstBad === undefined) {
    // Growing: the safe start first, then geometric steps capped at the declared maximum, and at
    // the held instance's own size while that is still untested (its load is already paid for).
    const held = instanceContext !== undefined && instanceContext > lo ? instanceContext : declared;
    const next = lo === 0 ? config.safeStart : Math.min(declared, held, roundDown(lo * config.growthFactor));
    return next > lo ? next : undefined;
  }
  if (lo === 0) {
    // Even the start failed: halve towards the smallest size worth having.
    const next = roundDown(hi / 2);
    return next < hi && next >= 2 * granularity ? next : undefined;
  }
  const converged = hi - lo <= Math.max(lo * config.resolution, config.minStepTokens, granularity);
  if (converged) return undefined;
  const mid = roundDown(Math.sqrt(lo * hi));
  if (mid > lo && mid < hi) return mid;
  const arithmetic = roundDown((lo + hi) / 2);
  return arithmetic > lo ? arithmetic : undefined;
}

/**
 * After auto-fit gave less than asked, what it gave is the most likely answer: the step right after
 * that probe tries it (a retry in between keeps the hint of the attempt it retried).
 */
function hintOf(config: SearchPlanConfig, attempts: readonly ProbeAttempt[]): number | undefined {
  for (let index = attempts.length - 1; index >= 0; index--) {
    const attempt = attempts[index] as ProbeAttempt;
    const gave = autoFitContext(attempt.record);
    if (gave !== undefined) return roundDownTo(config.granularity, gave);
    if (attempt.step.kind !== "retry") return undefined;
  }
  return undefined;
}

/** The last attempt that was not a retry: the step the search is at. */
function currentStep(attempts: readonly ProbeAttempt[]): ProbeAttempt["step"] | undefined {
  for (let index = attempts.length - 1; index >= 0; index--) {
    const step = (attempts[index] as ProbeAttempt).step;
    if (step.kind !== "retry") return step;
  }
  return undefined;
}

/** The next step of the search, from its history. */
export function planNextStep(config: SearchPlanConfig, history: SearchHistory): SearchStep {
  const bounds = boundsOf(config, history);
  const last = history.attempts.at(-1);
  if (last) {
    const size = last.record.contextLength;
    const lostConnection =
      !last.record.passed && bounds.failureKind === "disconnect" && bounds.firstBad === size;
    if (
      lostConnection &&
      config.retryDisconnects &&
      last.step.kind !== "retry" &&
      history.loads < config.maxLoads
    )
      return { kind: "retry", size };
  }
  const current = currentStep(history.attempts);
  if (current?.kind === "confirm" && current.last) return { kind: "done", exhausted: true };

  const size = nextSize(config, bounds, hintOf(config, history.attempts), history.instanceContext);
  const best = bounds.bestAny;
  const pending = best && !bounds.full.some((v) => v.size === best.size) ? best : undefined;
  const needsLoad =
    size !== undefined && (history.instanceContext === undefined || history.instanceContext < size);
  // One load is always kept back to confirm a fill-verified size with its own load.
  const loadsLeft = config.maxLoads - history.loads - (pending ? 1 : 0);
  if (size !== undefined && !(needsLoad && loadsLeft <= 0)) {
    if (!needsLoad) return { kind: "probe", size };
    return estimatedStep(config, history, bounds) ?? loadStep(config, size, best?.size);
  }
  const exhausted = size !== undefined;
  if (!pending) return { kind: "done", exhausted };
  if (history.loads >= config.maxLoads) return { kind: "done", exhausted: true };
  return { kind: "confirm", size: pending.size, verified: pending, last: exhausted };
}

/**
 * Bisection towards a load limit on estimates: the largest size the estimate passes (below the
 * failure bound) stands in for the largest pass until the gap converges, and then is loaded. Undefined
 * when estimates are off, the search is still growing, or the server gives none for the size needed.
 */
function estimatedStep(
  config: SearchPlanConfig,
  history: SearchHistory,
  bounds: SearchBounds,
): SearchStep | undefined {
  const { firstBad } = bounds;
  if (!config.useEstimates || firstBad === undefined) return undefined;
  const lo = bounds.bestAny?.size ?? 0;
  const estimates = history.estimates ?? [];
  const passing = estimates
    .filter((e) => e.passes === true && e.size > lo && e.size < firstBad)
    .map((e) => e.size);
  const tentative = Math.max(lo, ...passing);
  const size = nextSize(config, bounds, undefined, history.instanceContext, tentative);
  if (size === undefined)
    return tentative > lo ? loadStep(config, tentative, bounds.bestAny?.size) : undefined;
  if (history.instanceContext !== undefined && history.instanceContext >= size)
    return { kind: "probe", size };
  const asked = estimates.find((e) => e.size === size);
  if (!asked) return { kind: "estimate", size };
  return undefined;
}

/**
 * A probe that needs a new instance at `size`. More than twice the largest pass away, it fills the
 * geometric midpoint first: a fresh instance has an empty prefix cache, so its first fill is paid in
 * full, and the midpoint is what a failure there costs instead of the whole size.
 */
function loadStep(config: SearchPlanConfig, size: number, largestPass: number | undefined): ProbeStep {
  if (largestPass === undefined || size <= 2 * largestPass) return { kind: "probe", size };
  const midpoint = roundDownTo(config.granularity, Math.sqrt(largestPass * size));
  return midpoint > largestPass && midpoint < size
    ? { kind: "probe", size: midpoint, instanceSize: size }
    : { kind: "probe", size };
}
