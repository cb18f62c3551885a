import { randomInt } from "node:crypto";
import { seededRandom } from "./haystack.js";
import type { InstanceRef, ModelHost } from "./host.js";
import { noJournal, type SearchJournal, type SearchOutcome } from "./journal.js";
import {
  DEFAULT_PROBE_SETTINGS,
  type FillLevelResult,
  fillLevels,
  loadLevel,
  ProbeAbortedError,
  type ProbeSettings,
} from "./probe.js";
import type { FailureKind, ProbeRecord, RegistryEntry } from "./registry-schema.js";

/**
 * The search for a model's largest usable context.
 *
 * 1. Grow geometrically from a safe start until the first failure or the declared maximum.
 * 2. Bisect (geometric midpoints) until the gap is within 5 % (or `minStepTokens`).
 * 3. Loads are the expensive step, so a loaded instance is reused for fill tests at any smaller size;
 *    a size verified only that way is confirmed by its own load at the end.
 *
 * The answer is the largest N that passed every level with its own load. A size that failed is never
 * reported, and neither is any size at or above it. LM Studio's load estimate (when the server has one)
 * rules out sizes that would not pass the guardrails without loading them.
 */

export interface SearchOptions {
  /** First size tried (default 4096: what JIT loads use, so it is known to fit). */
  safeStart?: number;
  /** Growth per step (default 4). */
  growthFactor?: number;
  /** Stop when the gap between passing and failing sizes is within this fraction (default 0.05)... */
  resolution?: number;
  /**
   * ...or within this many tokens, whichever is larger (default: the granularity). A 1024-token floor would stop
   * more than 5 % short below ~20k tokens, so the default is the granularity; raise it to save loads.
   */
  minStepTokens?: number;
  /** Sizes are multiples of this (default 64, fine enough for 5 % even at 2k contexts). */
  granularity?: number;
  /** Loads allowed for this model, counting those of a resumed run (default 10). */
  maxLoads?: number;
  /** Ask LM Studio's estimate before loading (default true). */
  useEstimates?: boolean;
  /** Continue from the registry's previous state for this model instead of starting over. */
  resume?: boolean;
  /** Retry a probe once when the connection dropped (default true). */
  retryDisconnects?: boolean;
  probe?: Partial<Omit<ProbeSettings, "random">>;
  /** Seed for passkeys and filler (default: random per run). */
  seed?: number;
  journal?: SearchJournal;
  signal?: AbortSignal;
  onProbe?: (record: ProbeRecord, state: SearchState) => void;
  /** Identifier prefix for probe instances. */
  identifierPrefix?: string;
}

export interface SearchState {
  modelKey: string;
  declaredMax: number;
  loads: number;
  maxLoads: number;
  /** Largest size fully verified so far. */
  lastGood?: number;
  /** Smallest size that failed so far. */
  firstBad?: number;
}

export interface SearchResult extends SearchOutcome {
  modelKey: string;
  declaredMax: number;
  probes: ProbeRecord[];
}

interface Instance {
  ref: InstanceRef;
  /** Context it really has (read back). */
  contextLength: number;
}

interface Verified {
  size: number;
  promptTokens: number;
  timeToFirstTokenSec?: number;
  tokensPerSecond?: number;
}

export async function searchUsableContext(
  host: ModelHost,
  model: { key: string; declaredMax: number; sizeBytes?: number },
  options: SearchOptions = {},
): Promise<SearchResult> {
  const granularity = options.granularity ?? 64;
  const roundDown = (n: number) => Math.max(granularity, Math.floor(n / granularity) * granularity);
  const declared = model.declaredMax;
  const safeStart = Math.min(declared, options.safeStart ?? 4096);
  const factor = options.growthFactor ?? 4;
  const resolution = options.resolution ?? 0.05;
  const minStep = options.minStepTokens ?? granularity;
  const maxLoads = options.maxLoads ?? 10;
  const journal = options.journal ?? noJournal;
  const signal = options.signal;
  const settings: ProbeSettings = {
    ...DEFAULT_PROBE_SETTINGS,
    ...options.probe,
    random: seededRandom(options.seed ?? randomInt(2 ** 31)),
  };
  const prefix = options.identifierPrefix ?? `guard-probe-${process.pid}`;

  const previous = await journal.begin({
    declaredMax: declared,
    ...(model.sizeBytes !== undefined ? { sizeBytes: model.sizeBytes } : {}),
    fresh: !options.resume,
  });

  const probes: ProbeRecord[] = [];
  /** Passed every level with a load at exactly that size. */
  const full: Verified[] = [];
  /** Passed L1+L2 on a larger instance; still needs its own load. */
  const fillOnly: Verified[] = [];
  let firstBad: number | undefined;
  let failureKind: FailureKind | undefined;
  let loads = 0;
  let instance: Instance | undefined;
  /** After auto-fit gave less than asked, what it gave is the most likely answer: try it next. */
  let hint: number | undefined;

  if (previous) {
    loads = options.resume ? previous.loads : 0;
    restore(previous, options.resume === true);
  }

  /**
   * Resuming takes back every passed probe and the failure bound; a fresh start keeps only the failure
   * bound, which then can only come from a dead run's "probing N" marker (see journal.ts).
   */
  function restore(entry: RegistryEntry, everything: boolean): void {
    if (everything) {
      for (const record of entry.probes.filter((r) => r.passed)) {
        const verified = {
          size: record.contextLength,
          promptTokens: record.promptTokens ?? record.expectedPromptTokens ?? 0,
        };
        (record.loaded ? full : fillOnly).push(verified);
      }
    }
    if (entry.firstBad !== undefined) noteBad(entry.firstBad, entry.failureKind);
  }

  function noteBad(size: number, kind: FailureKind | undefined): void {
    if (firstBad === undefined || size <= firstBad) {
      firstBad = size;
      failureKind = kind;
    }
  }

  const bestFull = () =>
    full.filter((v) => firstBad === undefined || v.size < firstBad).sort((a, b) => b.size - a.size)[0];
  const bestAny = () =>
    [...full, ...fillOnly]
      .filter((v) => firstBad === undefined || v.size < firstBad)
      .sort((a, b) => b.size - a.size)[0];
  const state = (): SearchState => ({
    modelKey: model.key,
    declaredMax: declared,
    loads,
    maxLoads,
    ...(bestFull() ? { lastGood: bestFull()?.size } : {}),
    ...(firstBad !== undefined ? { firstBad } : {}),
  });

  async function dropInstance(): Promise<void> {
    if (!instance) return;
    const ref = instance.ref;
    instance = undefined;
    await host.unload(ref).catch(() => undefined);
  }

  async function record(entry: ProbeRecord): Promise<void> {
    probes.push(entry);
    const best = bestFull();
    await journal.recordProbe(entry, {
      loads,
      ...(best ? { lastGood: best.size } : {}),
      ...(firstBad !== undefined ? { firstBad, ...(failureKind ? { failureKind } : {}) } : {}),
    });
    options.onProbe?.(entry, state());
  }

  /** One probe at `size`; returns whether it passed every level it ran. */
  async function probeAt(size: number): Promise<boolean> {
    const started = Date.now();
    const at = new Date().toISOString();
    const skipped = { passed: false, skipped: true };
    let loadedNow = false;
    let loadedContext: number | undefined;
    let L0: ProbeRecord["levels"]["L0"] = {
      passed: true,
      skipped: true,
      detail: "reused a larger verified instance",
    };

    if (!instance || instance.contextLength < size) {
      if (options.useEstimates !== false) {
        const estimate = await host.estimate(model.key, size, settings.loadSettings).catch(() => undefined);
        if (estimate && !estimate.passesGuardrails) {
          noteBad(size, "guardrail");
          await record({
            contextLength: size,
            loaded: false,
            estimated: true,
            passed: false,
            failureKind: "guardrail",
            levels: {
              L0: { passed: false, detail: "LM Studio's estimate: would not pass the load guardrails" },
              L1: skipped,
              L2: skipped,
            },
            at,
            durationMs: Date.now() - started,
          });
          return false;
        }
      }
      await dropInstance();
      await journal.markProbing(size);
      loads += 1;
      const identifier = `${prefix}-${size}`;
      const level = await loadLevel(host, model.key, size, identifier, settings, signal);
      loadedNow = true;
      loadedContext = level.load?.actual;
      L0 = level.L0;
      if (level.load) instance = { ref: { identifier, type: "llm" }, contextLength: level.load.actual };
      if (!level.L0.passed) {
        // Auto-fit gave less than asked: sizes above what it gave are out of reach, and the instance
        // it did load still serves fill tests below its context.
        const reachable =
          level.load && level.load.actual < size ? roundDown(level.load.actual) + granularity : size;
        noteBad(Math.min(size, reachable), level.failureKind);
        if (level.load && level.load.actual < size) hint = roundDown(level.load.actual);
        await record({
          contextLength: size,
          ...(loadedContext !== undefined ? { loadedContext } : {}),
          loaded: true,
          passed: false,
          ...(level.failureKind ? { failureKind: level.failureKind } : {}),
          levels: { L0, L1: skipped, L2: skipped },
          at,
          durationMs: Date.now() - started,
        });
        return false;
      }
    }
    const current = instance;
    if (!current) throw new Error("unreachable: no instance after a successful load");
    const fill: FillLevelResult = await fillLevels(host, current.ref, size, settings, signal);
    if (fill.instanceSuspect) {
      // After a crash LM Studio may or may not still hold the instance; keep it only if it is listed,
      // since fill tests below its size are what make bisecting a fill limit cost no loads.
      const listed = await host
        .listLoaded()
        .then((loaded) => loaded.some((i) => i.identifier === current.ref.identifier))
        .catch(() => false);
      if (!listed) await dropInstance();
    }
    if (fill.passed) {
      const verified: Verified = {
        size,
        promptTokens: fill.promptTokens ?? fill.expectedPromptTokens ?? size - settings.answerReserve,
        ...(fill.timeToFirstTokenSec !== undefined ? { timeToFirstTokenSec: fill.timeToFirstTokenSec } : {}),
        ...(fill.tokensPerSecond !== undefined ? { tokensPerSecond: fill.tokensPerSecond } : {}),
      };
      (loadedNow ? full : fillOnly).push(verified);
    } else {
      noteBad(size, fill.failureKind);
    }
    await record({
      contextLength: size,
      ...(loadedContext !== undefined ? { loadedContext } : { loadedContext: current.contextLength }),
      loaded: loadedNow,
      passed: fill.passed,
      ...(fill.failureKind ? { failureKind: fill.failureKind } : {}),
      levels: { L0, L1: fill.L1, L2: fill.L2 },
      ...(fill.promptTokens !== undefined ? { promptTokens: fill.promptTokens } : {}),
      ...(fill.expectedPromptTokens !== undefined ? { expectedPromptTokens: fill.expectedPromptTokens } : {}),
      ...(fill.timeToFirstTokenSec !== undefined ? { timeToFirstTokenSec: fill.timeToFirstTokenSec } : {}),
      ...(fill.tokensPerSecond !== undefined ? { tokensPerSecond: fill.tokensPerSecond } : {}),
      at,
      durationMs: Date.now() - started,
    });
    return fill.passed;
  }

  /** A dropped connection is the transport's fault, not the size's: try once more before believing it. */
  async function probeWithRetry(size: number): Promise<void> {
    const before = firstBad;
    const beforeKind = failureKind;
    const passed = await probeAt(size);
    if (passed || options.retryDisconnects === false || failureKind !== "disconnect" || firstBad !== size)
      return;
    if (loads >= maxLoads) return;
    firstBad = before;
    failureKind = beforeKind;
    await probeAt(size);
  }

  const converged = (lo: number, hi: number) => hi - lo <= Math.max(lo * resolution, minStep, granularity);

  /** The next size to try, or undefined when the search is done. */
  function nextSize(): number | undefined {
    const best = bestAny();
    const lo = best?.size ?? 0;
    const hi = firstBad ?? declared + 1;
    if (lo >= declared) return undefined;
    const suggested = hint;
    hint = undefined;
    if (suggested !== undefined && suggested > lo && suggested < hi) return suggested;
    if (firstBad === undefined) {
      // Growing: the safe start first, then geometric steps capped at the declared maximum.
      const next = lo === 0 ? safeStart : Math.min(declared, roundDown(lo * factor));
      return next > lo ? next : undefined;
    }
    if (lo === 0) {
      // Even the start failed: halve towards the smallest size worth having.
      const next = roundDown(hi / 2);
      return next < hi && next >= 2 * granularity ? next : undefined;
    }
    if (converged(lo, hi)) return undefined;
    const mid = roundDown(Math.sqrt(lo * hi));
    return mid > lo && mid < hi ? mid : roundDown((lo + hi) / 2) > lo ? roundDown((lo + hi) / 2) : undefined;
  }

  let exhausted = false;
  /** The best size verified only on a larger instance, if it still needs its own load. */
  const unconfirmed = () => {
    const best = bestAny();
    return best && !full.some((v) => v.size === best.size) ? best : undefined;
  };
  try {
    for (;;) {
      if (signal?.aborted) throw new ProbeAbortedError("search aborted");
      const size = nextSize();
      const pending = unconfirmed();
      const needsLoad = size !== undefined && (!instance || instance.contextLength < size);
      // One load is always kept back to confirm a fill-verified size with its own load.
      const loadsLeft = maxLoads - loads - (pending ? 1 : 0);
      if (size === undefined || (needsLoad && loadsLeft <= 0)) {
        exhausted = size !== undefined;
        if (!pending) break;
        if (loads >= maxLoads) {
          exhausted = true;
          break;
        }
        await dropInstance();
        await probeWithRetry(pending.size);
        if (exhausted) break;
        continue;
      }
      await probeWithRetry(size);
    }
  } catch (error) {
    await dropInstance();
    if (error instanceof ProbeAbortedError || signal?.aborted) {
      const best = bestFull();
      await journal
        .finish({
          status: "incomplete",
          loads,
          ...(best ? { lastGood: best.size } : {}),
          ...(firstBad !== undefined ? { firstBad, ...(failureKind ? { failureKind } : {}) } : {}),
        })
        .catch(() => undefined);
    } else {
      await journal.abandon().catch(() => undefined);
    }
    throw error;
  }
  await dropInstance();

  const best = bestFull();
  const outcome: SearchOutcome = {
    status: best === undefined ? (exhausted ? "incomplete" : "failed") : exhausted ? "incomplete" : "tested",
    loads,
    ...(best
      ? {
          testedMax: best.size,
          usablePromptTokens: best.promptTokens,
          lastGood: best.size,
          ...(best.timeToFirstTokenSec !== undefined
            ? { timeToFirstTokenSec: best.timeToFirstTokenSec }
            : {}),
          ...(best.tokensPerSecond !== undefined ? { tokensPerSecond: best.tokensPerSecond } : {}),
        }
      : {}),
    ...(firstBad !== undefined ? { firstBad, ...(failureKind ? { failureKind } : {}) } : {}),
  };
  await journal.finish(outcome);
  return { ...outcome, modelKey: model.key, declaredMax: declared, probes };
}
