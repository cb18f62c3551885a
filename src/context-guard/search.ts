import { randomInt } from "node:crypto";
import { seededRandom } from "./haystack.js";
import { type InstanceRef, type ModelHost, ModelHostError } from "./host.js";
import { noJournal, type SearchJournal, type SearchOutcome } from "./journal.js";
import {
  DEFAULT_PROBE_SETTINGS,
  type FillLevelResult,
  fillLevels,
  loadLevel,
  ProbeAbortedError,
  type ProbeSettings,
} from "./probe.js";
import type { ProbeRecord } from "./registry-schema.js";
import {
  boundsOf,
  type EstimateAnswer,
  type ProbeAttempt,
  planNextStep,
  resumedStateOf,
  type SearchHistory,
  type SearchPlanConfig,
  type VerifiedSize,
} from "./search-plan.js";

/**
 * The search for a model's largest usable context: `search-plan.ts` decides which size to try next
 * from the probe history; this driver runs each probe (loads are the expensive step, so a loaded
 * instance is reused for fill tests at any smaller size) and journals it.
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
  /** It loaded at exactly the size asked (L0 passed): a fill at that size passes with its own load. */
  honoured: boolean;
}

export async function searchUsableContext(
  host: ModelHost,
  model: { key: string; declaredMax: number; sizeBytes?: number },
  options: SearchOptions = {},
): Promise<SearchResult> {
  const granularity = options.granularity ?? 64;
  const declared = model.declaredMax;
  const maxLoads = options.maxLoads ?? 10;
  const journal = options.journal ?? noJournal;
  const signal = options.signal;
  const settings: ProbeSettings = {
    ...DEFAULT_PROBE_SETTINGS,
    ...options.probe,
    random: seededRandom(options.seed ?? randomInt(2 ** 31)),
  };
  const plan: SearchPlanConfig = {
    declaredMax: declared,
    safeStart: Math.min(declared, options.safeStart ?? 4096),
    growthFactor: options.growthFactor ?? 4,
    resolution: options.resolution ?? 0.05,
    minStepTokens: options.minStepTokens ?? granularity,
    granularity,
    maxLoads,
    retryDisconnects: options.retryDisconnects !== false,
    useEstimates: options.useEstimates !== false,
    answerReserve: settings.answerReserve,
  };
  const prefix = options.identifierPrefix ?? `guard-probe-${process.pid}`;

  const previous = await journal.begin({
    declaredMax: declared,
    ...(model.sizeBytes !== undefined ? { sizeBytes: model.sizeBytes } : {}),
    fresh: !options.resume,
  });
  const resumed = resumedStateOf(previous, options.resume === true);
  const attempts: ProbeAttempt[] = [];
  const estimates: EstimateAnswer[] = [];
  let loads = previous && options.resume ? previous.loads : 0;
  let instance: Instance | undefined;
  const history = (): SearchHistory => ({
    resumed,
    attempts,
    loads,
    ...(instance ? { instanceContext: instance.contextLength } : {}),
    estimates,
  });
  /** The journal's view of the bounds: what a crash would leave behind. */
  const progress = () => {
    const { bestFull, firstBad, failureKind } = boundsOf(plan, history());
    return {
      loads,
      ...(bestFull ? { lastGood: bestFull.size } : {}),
      ...(firstBad !== undefined ? { firstBad, ...(failureKind ? { failureKind } : {}) } : {}),
    };
  };

  async function dropInstance(): Promise<void> {
    if (!instance) return;
    const ref = instance.ref;
    instance = undefined;
    await host.unload(ref).catch(() => undefined);
  }

  /** Asks LM Studio's load estimate for `size`: the failed probe it amounts to when it refuses the size. */
  async function estimateAt(size: number): Promise<ProbeRecord | undefined> {
    const started = Date.now();
    const at = new Date().toISOString();
    const estimate = await host.estimate(model.key, size, settings.loadSettings).catch(() => undefined);
    estimates.push({ size, passes: estimate?.passesGuardrails });
    if (!estimate || estimate.passesGuardrails) return undefined;
    const skipped = { passed: false, skipped: true };
    return {
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
    };
  }

  /**
   * One probe at `size`: loads at `instanceSize` when the instance held is too small (unless the
   * estimate rules it out), then fills `size` on it. A confirm (`confirmed`) stops after the load,
   * taking the fill levels from it.
   */
  async function probeAt(size: number, instanceSize = size, confirmed?: VerifiedSize): Promise<ProbeRecord> {
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
      const known = estimates.find((e) => e.size === instanceSize);
      if (plan.useEstimates && !known) {
        const refused = await estimateAt(instanceSize);
        if (refused) return refused;
      }
      await dropInstance();
      await journal.markProbing(instanceSize);
      loads += 1;
      const identifier = `${prefix}-${instanceSize}`;
      const level = await loadLevel(host, model.key, instanceSize, identifier, settings, signal);
      loadedNow = true;
      loadedContext = level.load?.actual;
      L0 = level.L0;
      // An auto-fit instance smaller than asked still serves fill tests below its context.
      if (level.load)
        instance = {
          ref: { identifier, type: "llm" },
          contextLength: level.load.actual,
          honoured: level.L0.passed,
        };
      if (!level.L0.passed) {
        return {
          contextLength: instanceSize,
          ...(loadedContext !== undefined ? { loadedContext } : {}),
          loaded: true,
          passed: false,
          ...(level.failureKind ? { failureKind: level.failureKind } : {}),
          levels: { L0, L1: skipped, L2: skipped },
          at,
          durationMs: Date.now() - started,
        };
      }
    }
    const current = instance;
    if (!current) throw new Error("unreachable: no instance after a successful load");
    // Its own load at exactly this size, now or by an earlier probe, proves L0 for it.
    const ownLoad = current.honoured && current.contextLength === size;
    if (!loadedNow && ownLoad)
      L0 = { passed: true, skipped: true, detail: "loaded at this size by an earlier probe" };
    if (confirmed) {
      const byLarger = { passed: true, skipped: true, detail: "passed on a larger instance" };
      return {
        contextLength: size,
        loadedContext: current.contextLength,
        loaded: ownLoad,
        passed: ownLoad,
        levels: { L0, L1: byLarger, L2: byLarger },
        promptTokens: confirmed.promptTokens,
        ...(confirmed.timeToFirstTokenSec !== undefined
          ? { timeToFirstTokenSec: confirmed.timeToFirstTokenSec }
          : {}),
        ...(confirmed.tokensPerSecond !== undefined ? { tokensPerSecond: confirmed.tokensPerSecond } : {}),
        at,
        durationMs: Date.now() - started,
      };
    }
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
    return {
      contextLength: size,
      ...(loadedContext !== undefined ? { loadedContext } : { loadedContext: current.contextLength }),
      loaded: ownLoad,
      passed: fill.passed,
      ...(fill.failureKind ? { failureKind: fill.failureKind } : {}),
      levels: { L0, L1: fill.L1, L2: fill.L2 },
      ...(fill.promptTokens !== undefined ? { promptTokens: fill.promptTokens } : {}),
      ...(fill.expectedPromptTokens !== undefined ? { expectedPromptTokens: fill.expectedPromptTokens } : {}),
      ...(fill.timeToFirstTokenSec !== undefined ? { timeToFirstTokenSec: fill.timeToFirstTokenSec } : {}),
      ...(fill.tokensPerSecond !== undefined ? { tokensPerSecond: fill.tokensPerSecond } : {}),
      at,
      durationMs: Date.now() - started,
    };
  }

  /**
   * A dropped connection may be a crash at this size, so it is retried once. But when LM Studio no
   * longer answers at all (stopped, killed), the probe says nothing about the size: the search stops
   * with that error instead of recording it, and `--resume` continues from here once it is back.
   */
  async function throwIfServerGone(record: ProbeRecord): Promise<void> {
    if (record.failureKind !== "disconnect") return;
    await host.listLoaded().catch((error: unknown) => {
      if (error instanceof ModelHostError && (error.kind === "disconnect" || error.kind === "timeout")) {
        serverGone = true;
        throw error;
      }
    });
  }

  let exhausted = false;
  let serverGone = false;
  try {
    for (;;) {
      if (signal?.aborted) throw new ProbeAbortedError("search aborted");
      const step = planNextStep(plan, history());
      if (step.kind === "done") {
        exhausted = step.exhausted;
        break;
      }
      if (step.kind === "confirm") await dropInstance();
      const record =
        step.kind === "estimate"
          ? await estimateAt(step.size)
          : step.kind === "confirm"
            ? await probeAt(step.size, step.size, step.verified)
            : await probeAt(step.size, step.kind === "probe" ? step.instanceSize : undefined);
      // An estimate that passes records nothing: only a load can prove a size.
      if (!record) continue;
      await throwIfServerGone(record);
      attempts.push({ step, record });
      await journal.recordProbe(record, progress());
      if (options.onProbe) {
        const { lastGood, firstBad } = progress();
        options.onProbe(record, {
          modelKey: model.key,
          declaredMax: declared,
          loads,
          maxLoads,
          ...(lastGood !== undefined ? { lastGood } : {}),
          ...(firstBad !== undefined ? { firstBad } : {}),
        });
      }
    }
  } catch (error) {
    await dropInstance();
    if (error instanceof ProbeAbortedError || signal?.aborted || serverGone) {
      await journal.finish({ status: "incomplete", ...progress() }).catch(() => undefined);
    } else {
      // Any other failure: release the model for other runs (the record keeps what was probed).
      await journal.abandon().catch(() => undefined);
    }
    throw error;
  }
  await dropInstance();

  const { bestFull: best, firstBad, failureKind } = boundsOf(plan, history());
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
  return { ...outcome, modelKey: model.key, declaredMax: declared, probes: attempts.map((a) => a.record) };
}
