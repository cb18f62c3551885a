/**
 * One loaded instance's prediction slots and KV cache, as llama.cpp's server (inside LM Studio 0.4)
 * runs them (reference §9.3):
 * - `parallel` slots; a prediction beyond them waits in a first-in first-out queue.
 * - Unified cache: every running prediction's tokens (prompt + generated) share one pool of n_ctx
 *   cells, and any one of them alone may use all of it. When the pool runs out while more than one
 *   prediction is running, idle slots' cached prompts go first; if that is not enough, EVERY running
 *   prediction fails with `Context size has been exceeded.` and the instance stays loaded.
 * - Per-slot cache (unified off, and MLX, which has no unified key): each slot has its own n_ctx, as
 *   LM Studio's SDK documents ("each prediction can utilize the full context length"), so predictions
 *   never exhaust each other.
 * - Prefix reuse: a slot keeps its last prompt; the next prompt it runs only processes the tokens after
 *   the longest common prefix. The pool counts the prompt tokens actually processed.
 */

/** llama.cpp's text for a shared KV cache that ran out (passed through by LM Studio). */
export const CONTEXT_SIZE_EXCEEDED = "Context size has been exceeded.";

export interface PredictionTiming {
  /** Simulated time to process 1000 prompt tokens (only the tokens not reused from the slot's cache). */
  prefillMsPer1kTokens: number;
  /** Simulated time per generated token. */
  decodeMsPerToken: number;
}

export interface KvCacheSettings {
  /** Slots (LM Studio `numParallelSessions`, SDK `maxParallelPredictions`). */
  parallel: number;
  /** `useUnifiedKvCache`; undefined for MLX models, which have no such key. */
  unified: boolean | undefined;
}

/** A prediction failed because the shared pool ran out (its own prompt may have been small). */
export class KvCacheExhaustedError extends Error {
  override readonly name = "KvCacheExhaustedError";
  constructor() {
    super(CONTEXT_SIZE_EXCEEDED);
  }
}

interface Slot {
  readonly index: number;
  /** The prompt this slot processed last; its cells stay cached until the pool needs them. */
  cached: readonly number[];
  busy: boolean;
  lastUsed: number;
}

/** One running prediction's hold on a slot and on pool cells. */
export interface SlotLease {
  readonly slot: number;
  /** Prompt tokens the engine must process (the prompt minus the prefix the slot had cached). */
  readonly processedPromptTokens: number;
  readonly cachedPromptTokens: number;
  /** Settles (never rejects) when another prediction exhausted the pool and this one was failed. */
  readonly failed: Promise<void>;
  isFailed(): boolean;
}

interface Running {
  lease: SlotLease;
  cells: number;
  fail: () => void;
}

export interface KvPoolStats {
  /** Prompt tokens of every prediction started. */
  promptTokens: number;
  /** Of those, the tokens really processed (the rest came from a slot's cached prefix). */
  processedPromptTokens: number;
  /** Predictions failed by an exhausted pool. */
  exhaustedPredictions: number;
}

function commonPrefix(a: readonly number[], b: readonly number[]): number {
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && a[i] === b[i]) i++;
  return i;
}

export class InstanceKvPool {
  private readonly slots: Slot[];
  private readonly running = new Map<number, Running>();
  private readonly waiting: Array<() => void> = [];
  private clock = 0;
  readonly stats: KvPoolStats = { promptTokens: 0, processedPromptTokens: 0, exhaustedPredictions: 0 };

  constructor(
    readonly contextLength: number,
    readonly settings: KvCacheSettings,
    /** Told every change to `stats` (the simulator totals them per model, across loads). */
    private readonly onStats?: (delta: KvPoolStats) => void,
  ) {
    this.slots = Array.from({ length: Math.max(1, settings.parallel) }, (_, index) => ({
      index,
      cached: [],
      busy: false,
      lastUsed: 0,
    }));
  }

  /** Predictions holding a slot. */
  get activeCount(): number {
    return this.running.size;
  }

  /** Predictions waiting for a slot. */
  get queuedCount(): number {
    return this.waiting.length;
  }

  private get shared(): boolean {
    return this.settings.unified === true;
  }

  /**
   * Takes a free slot (waiting first-in first-out for one) and the cells for `prompt`. Throws
   * KvCacheExhaustedError when the shared pool cannot hold it beside the running predictions; then
   * every running prediction has been failed too.
   */
  async start(prompt: readonly number[], signal?: AbortSignal): Promise<SlotLease> {
    while (!this.slots.some((s) => !s.busy)) {
      await new Promise<void>((resolve, reject) => {
        const wake = () => {
          signal?.removeEventListener("abort", onAbort);
          resolve();
        };
        const onAbort = () => {
          const at = this.waiting.indexOf(wake);
          if (at >= 0) this.waiting.splice(at, 1);
          reject(signal?.reason ?? new Error("aborted"));
        };
        signal?.addEventListener("abort", onAbort, { once: true });
        this.waiting.push(wake);
      });
    }
    const slot = this.pickSlot(prompt);
    const reused = Math.min(commonPrefix(slot.cached, prompt), Math.max(0, prompt.length - 1));
    slot.busy = true;
    slot.lastUsed = ++this.clock;
    this.stats.promptTokens += prompt.length;
    this.stats.processedPromptTokens += prompt.length - reused;
    this.onStats?.({
      promptTokens: prompt.length,
      processedPromptTokens: prompt.length - reused,
      exhaustedPredictions: 0,
    });

    const failedFlag = { value: false };
    let settle: () => void = () => undefined;
    const failed = new Promise<void>((resolve) => {
      settle = resolve;
    });
    const fail = () => {
      failedFlag.value = true;
      settle();
    };
    const lease: SlotLease = {
      slot: slot.index,
      processedPromptTokens: prompt.length - reused,
      cachedPromptTokens: reused,
      failed,
      isFailed: () => failedFlag.value,
    };
    slot.cached = prompt;
    this.running.set(slot.index, { lease, cells: prompt.length, fail });
    this.ensureRoom(slot.index);
    return lease;
  }

  /** Adds generated tokens to a prediction's cells; throws when that exhausts the shared pool. */
  grow(lease: SlotLease, tokens: number): void {
    if (lease.isFailed()) throw new KvCacheExhaustedError();
    const run = this.running.get(lease.slot);
    if (run === undefined || run.lease !== lease) return;
    run.cells += tokens;
    this.ensureRoom(lease.slot);
  }

  /** Gives the slot back (the prompt stays cached in it for the next prediction's prefix). */
  finish(lease: SlotLease): void {
    const run = this.running.get(lease.slot);
    if (run === undefined || run.lease !== lease) return;
    this.running.delete(lease.slot);
    this.freeSlot(lease.slot, !lease.isFailed());
  }

  private freeSlot(index: number, keepCache: boolean): void {
    const slot = this.slots[index]!;
    slot.busy = false;
    if (!keepCache) slot.cached = [];
    this.waiting.shift()?.();
  }

  /** The free slot whose cached prompt shares the longest prefix with this one; else the least recently used. */
  private pickSlot(prompt: readonly number[]): Slot {
    let best: Slot | undefined;
    let bestPrefix = -1;
    for (const slot of this.slots) {
      if (slot.busy) continue;
      const prefix = commonPrefix(slot.cached, prompt);
      if (
        prefix > bestPrefix ||
        (prefix === bestPrefix && best !== undefined && slot.lastUsed < best.lastUsed)
      ) {
        best = slot;
        bestPrefix = prefix;
      }
    }
    return best!;
  }

  /**
   * After `grower` took more cells: on a shared pool that overflows, idle slots' caches are dropped
   * first (least recently used first); if the running predictions alone still overflow and more than
   * one is running, all of them fail. A lone prediction is bounded by its own context instead.
   */
  private ensureRoom(grower: number): void {
    if (!this.shared) return;
    const active = [...this.running.values()].reduce((sum, r) => sum + r.cells, 0);
    const idle = this.slots
      .filter((s) => !s.busy && s.cached.length > 0)
      .sort((a, b) => a.lastUsed - b.lastUsed);
    let idleCells = idle.reduce((sum, s) => sum + s.cached.length, 0);
    for (const slot of idle) {
      if (active + idleCells <= this.contextLength) break;
      idleCells -= slot.cached.length;
      slot.cached = [];
    }
    if (active <= this.contextLength || this.running.size < 2) return;
    const failing = [...this.running.values()];
    this.stats.exhaustedPredictions += failing.length;
    this.onStats?.({ promptTokens: 0, processedPromptTokens: 0, exhaustedPredictions: failing.length });
    for (const run of failing) {
      this.running.delete(run.lease.slot);
      run.fail();
      this.freeSlot(run.lease.slot, false);
    }
    if (failing.some((r) => r.lease.slot === grower)) throw new KvCacheExhaustedError();
  }
}

/**
 * The slots and cache mode a load gets: what the load config asked for, else LM Studio's defaults
 * (0.4: 4 slots, unified for GGUF; 0.3: 1 slot, not unified). MLX has no unified key.
 */
export function resolveKvCacheSettings(
  format: "gguf" | "mlx",
  lmStudio03: boolean,
  requested: { parallel?: number; unified?: boolean } = {},
): KvCacheSettings {
  const parallel = requested.parallel ?? (lmStudio03 ? 1 : 4);
  if (format === "mlx") return { parallel, unified: undefined };
  return { parallel, unified: requested.unified ?? !lmStudio03 };
}
