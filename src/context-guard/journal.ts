import type { ContextRegistry } from "./registry.js";
import {
  type EntryIdentity,
  type EntryStatus,
  type FailureKind,
  freshEntry,
  type ProbeRecord,
  type RegistryEntry,
  TEST_METHOD_VERSION,
} from "./registry-schema.js";

/**
 * What the search writes down as it goes, so that a crash, a hang or a kill leaves evidence and the
 * next run can resume. The registry-backed journal writes every step under the registry lock.
 */

export interface SearchProgress {
  lastGood?: number;
  firstBad?: number;
  failureKind?: FailureKind;
  loads: number;
}

export interface SearchOutcome extends SearchProgress {
  status: EntryStatus;
  testedMax?: number;
  usablePromptTokens?: number;
  timeToFirstTokenSec?: number;
  tokensPerSecond?: number;
}

export interface SearchJournal {
  /** The entry as the previous run left it (for resuming), after this run claimed it. */
  begin(details: {
    declaredMax: number;
    sizeBytes?: number;
    fresh: boolean;
  }): Promise<RegistryEntry | undefined>;
  /** Written before each load: the size the process is about to try. */
  markProbing(contextLength: number): Promise<void>;
  /** One finished probe; clears the probing marker. */
  recordProbe(record: ProbeRecord, progress: SearchProgress): Promise<void>;
  finish(outcome: SearchOutcome): Promise<void>;
  /** The search failed without an outcome: let other runs have the model. */
  abandon(): Promise<void>;
}

export const noJournal: SearchJournal = {
  begin: async () => undefined,
  markProbing: async () => undefined,
  recordProbe: async () => undefined,
  finish: async () => undefined,
  abandon: async () => undefined,
};

/** Another live process is testing this model right now. */
export class ModelBusyError extends Error {
  override readonly name = "ModelBusyError";
}

function processAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

function progressFields(progress: SearchProgress): Partial<RegistryEntry> {
  return {
    lastGood: progress.lastGood,
    firstBad: progress.firstBad,
    failureKind: progress.failureKind,
    loads: progress.loads,
  };
}

export class RegistryJournal implements SearchJournal {
  constructor(
    private readonly registry: ContextRegistry,
    private readonly identity: EntryIdentity,
  ) {}

  async begin(details: {
    declaredMax: number;
    sizeBytes?: number;
    fresh: boolean;
  }): Promise<RegistryEntry | undefined> {
    let previous: RegistryEntry | undefined;
    await this.registry.updateEntry(this.identity, (current) => {
      const now = new Date().toISOString();
      // The whole run holds the model, not only its loads: a second run started between two loads
      // would otherwise mix its probes and load counts into this one's.
      const holder = current?.testRun;
      if (holder && holder.pid !== process.pid && processAlive(holder.pid)) {
        throw new ModelBusyError(
          `${this.identity.modelKey} is being tested by process ${holder.pid} (since ${holder.startedAt})`,
        );
      }
      if (current?.probing && current.probing.pid !== process.pid && processAlive(current.probing.pid)) {
        throw new ModelBusyError(
          `${this.identity.modelKey} is being tested by process ${current.probing.pid} (probing ${current.probing.contextLength})`,
        );
      }
      previous = current;
      const base = current && !details.fresh ? current : freshEntry(this.identity, details, now);
      // A marker left by a dead process is evidence: that size crashed or hung the run. It is
      // recorded as a failure, and kept even on a fresh start so the size is never retried blindly.
      const stale = current?.probing;
      const crashRecord: ProbeRecord[] = stale
        ? [
            {
              contextLength: stale.contextLength,
              loaded: true,
              passed: false,
              failureKind: "crash",
              levels: {
                L0: {
                  passed: false,
                  detail: `process ${stale.pid} died while probing (started ${stale.startedAt})`,
                },
                L1: { passed: false, skipped: true },
                L2: { passed: false, skipped: true },
              },
              at: now,
            },
          ]
        : [];
      const firstBad = stale
        ? Math.min(base.firstBad ?? Number.POSITIVE_INFINITY, stale.contextLength)
        : base.firstBad;
      return {
        ...base,
        declaredMax: details.declaredMax,
        ...(details.sizeBytes !== undefined ? { sizeBytes: details.sizeBytes } : {}),
        probes: [...base.probes, ...crashRecord],
        firstBad,
        failureKind: stale ? "crash" : base.failureKind,
        probing: undefined,
        testRun: { pid: process.pid, startedAt: now },
        status: "testing",
        methodVersion: TEST_METHOD_VERSION,
        updatedAt: now,
      };
    });
    return this.registry.find(this.identity).then((entry) => entry ?? previous);
  }

  async markProbing(contextLength: number): Promise<void> {
    await this.registry.updateEntry(this.identity, (current) => {
      if (!current) throw new Error("journal used before begin()");
      const now = new Date().toISOString();
      return { ...current, probing: { contextLength, pid: process.pid, startedAt: now }, updatedAt: now };
    });
  }

  async recordProbe(record: ProbeRecord, progress: SearchProgress): Promise<void> {
    await this.registry.updateEntry(this.identity, (current) => {
      if (!current) throw new Error("journal used before begin()");
      return {
        ...current,
        ...progressFields(progress),
        probes: [...current.probes, record],
        probing: undefined,
        updatedAt: new Date().toISOString(),
      };
    });
  }

  async abandon(): Promise<void> {
    await this.registry.updateEntry(this.identity, (current) => {
      if (!current) throw new Error("journal used before begin()");
      return { ...current, testRun: undefined, probing: undefined, updatedAt: new Date().toISOString() };
    });
  }

  async finish(outcome: SearchOutcome): Promise<void> {
    await this.registry.updateEntry(this.identity, (current) => {
      if (!current) throw new Error("journal used before begin()");
      const now = new Date().toISOString();
      return {
        ...current,
        ...progressFields(outcome),
        status: outcome.status,
        testedMax: outcome.testedMax,
        usablePromptTokens: outcome.usablePromptTokens,
        timeToFirstTokenSec: outcome.timeToFirstTokenSec,
        tokensPerSecond: outcome.tokensPerSecond,
        probing: undefined,
        testRun: undefined,
        updatedAt: now,
        ...(outcome.status === "tested" || outcome.status === "failed" ? { testedAt: now } : {}),
      };
    });
  }
}
