import { LangChainError, stampRetryable } from "@langchain/core/errors";
import { lmStudioErrorBase } from "../lmstudio/error-brand.js";

/**
 * Admission control for one loaded instance (reference §9.3). LM Studio 0.4 runs GGUF models with 4
 * parallel slots on a unified KV cache: the running predictions share n_ctx cells, and when they
 * outgrow it, llama.cpp fails every one of them. A budget admits a request only when its prompt plus
 * its answer (max_tokens) fits beside what is already running on the instance (unified), or when a
 * slot is free (per-slot caches, where each slot has the whole context). Others wait first in, first
 * out, honouring their abort signal and a bounded wait.
 *
 * Budgets are per process, keyed by server and instance, and shared through a global registry so that
 * every ChatLMStudio / guard object (even from a second copy of this package) draws on the same one.
 * Other processes and requests that bypass the guard are not seen (README "Concurrency").
 */

export interface InstanceCapacity {
  /** The instance's context (n_ctx). */
  contextLength: number;
  /** Parallel slots (LM Studio `numParallelSessions`). */
  parallel: number;
  /** All slots share one pool of n_ctx cells (`useUnifiedKvCache`). */
  unified: boolean;
}

/** A waiting request gave up: the instance stayed too busy for the whole bounded wait. */
export class ContextGuardAdmissionTimeoutError extends lmStudioErrorBase(
  LangChainError,
  "guard-admission-timeout",
) {
  override readonly name: string = "ContextGuardAdmissionTimeoutError";
  constructor(
    readonly instance: string,
    readonly tokens: number,
    readonly waitedMs: number,
    capacity: InstanceCapacity,
    running: { requests: number; tokens: number },
  ) {
    super(
      `The context guard waited ${waitedMs} ms to send a request of ${tokens} tokens (prompt + max tokens) to ` +
        `"${instance}" and the instance stayed busy: ${running.requests} request(s) holding ${running.tokens} of its ` +
        `${capacity.contextLength} tokens on ${capacity.parallel} slot(s)${capacity.unified ? " sharing one KV cache" : ""}. ` +
        "Lower the concurrency, lower maxTokens so more requests fit side by side, or raise the guard's admissionTimeoutMs.",
    );
    stampRetryable(this, true);
  }
}

/** What an admitted request holds; `release` gives it back (idempotent). */
export interface AdmissionTicket {
  readonly tokens: number;
  release(): void;
}

interface Waiter {
  tokens: number;
  admit: () => void;
}

export class InstanceBudget {
  private inFlightTokens = 0;
  private inFlightRequests = 0;
  private readonly queue: Waiter[] = [];
  private drainedWaiters: Array<() => void> = [];

  constructor(
    readonly instance: string,
    private capacity: InstanceCapacity,
  ) {}

  /** A reload can change the instance's context or slots; the next admissions use the new figures. */
  setCapacity(capacity: InstanceCapacity): void {
    this.capacity = capacity;
    this.pump();
  }

  get running(): { requests: number; tokens: number } {
    return { requests: this.inFlightRequests, tokens: this.inFlightTokens };
  }

  get waiting(): number {
    return this.queue.length;
  }

  private fits(tokens: number): boolean {
    const { parallel, unified, contextLength } = this.capacity;
    if (this.inFlightRequests >= parallel) return false;
    if (!unified) return true;
    // A request larger than the whole pool can only run alone (the clamp normally prevents this).
    return this.inFlightRequests === 0 || this.inFlightTokens + tokens <= contextLength;
  }

  /** Admits `tokens` (prompt + max answer) when they fit; waits FIFO otherwise. */
  async admit(
    tokens: number,
    options: { signal?: AbortSignal; timeoutMs: number },
  ): Promise<AdmissionTicket> {
    options.signal?.throwIfAborted();
    if (this.queue.length === 0 && this.fits(tokens)) {
      this.count(tokens);
      return this.ticket(tokens);
    }
    const started = performance.now();
    await new Promise<void>((resolve, reject) => {
      const waiter: Waiter = {
        tokens,
        admit: () => {
          cleanup();
          resolve();
        },
      };
      const leave = () => {
        const at = this.queue.indexOf(waiter);
        if (at >= 0) this.queue.splice(at, 1);
        cleanup();
        // The head may have been what blocked smaller requests behind it.
        this.pump();
      };
      const onAbort = () => {
        leave();
        reject(options.signal?.reason ?? new Error("aborted"));
      };
      const timer = setTimeout(() => {
        leave();
        reject(
          new ContextGuardAdmissionTimeoutError(
            this.instance,
            tokens,
            Math.round(performance.now() - started),
            this.capacity,
            this.running,
          ),
        );
      }, options.timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        options.signal?.removeEventListener("abort", onAbort);
      };
      options.signal?.addEventListener("abort", onAbort, { once: true });
      this.queue.push(waiter);
    });
    // pump() counted it when it let it in.
    return this.ticket(tokens);
  }

  /** Resolves when nothing admitted here is running any more (bounded by `timeoutMs`). */
  drained(timeoutMs: number): Promise<void> {
    if (this.inFlightRequests === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(done, timeoutMs);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.drainedWaiters.push(done);
    });
  }

  private count(tokens: number): void {
    this.inFlightTokens += tokens;
    this.inFlightRequests += 1;
  }

  private ticket(tokens: number): AdmissionTicket {
    let released = false;
    return {
      tokens,
      release: () => {
        if (released) return;
        released = true;
        this.inFlightTokens -= tokens;
        this.inFlightRequests -= 1;
        if (this.inFlightRequests === 0) {
          const waiters = this.drainedWaiters;
          this.drainedWaiters = [];
          for (const wake of waiters) wake();
        }
        this.pump();
      },
    };
  }

  /** Admits waiters from the head while they fit (strict FIFO: a large head is never overtaken). */
  private pump(): void {
    while (this.queue.length > 0 && this.fits(this.queue[0]!.tokens)) {
      const head = this.queue.shift()!;
      // Counted now, so the next waiter is judged beside it.
      this.count(head.tokens);
      head.admit();
    }
  }
}

const REGISTRY = Symbol.for("langchain-lmstudio.instance-budgets");

/** The process-wide budget of one server's instance (created on first use). */
export function instanceBudget(server: string, instance: string, capacity: InstanceCapacity): InstanceBudget {
  const holder = globalThis as unknown as Record<symbol, Map<string, InstanceBudget> | undefined>;
  holder[REGISTRY] ??= new Map();
  const budgets = holder[REGISTRY];
  const key = `${server.replace(/\/+$/, "")}\u0000${instance}`;
  let budget = budgets.get(key);
  if (budget === undefined) {
    budget = new InstanceBudget(instance, capacity);
    budgets.set(key, budget);
  } else budget.setCapacity(capacity);
  return budget;
}
