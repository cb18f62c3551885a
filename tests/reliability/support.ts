import { LangChainError } from "@langchain/core/errors";
import { ModelHostError } from "../../src/context-guard/index.js";

/**
 * Shared pieces of the reliability suite: what counts as a typed error, bounded settling (a call
 * that does not settle within its bound is a "hang", never a test that waits forever), and the
 * active-handle bookkeeping that tells a released socket or timer from a leaked one.
 */

/**
 * A failure a caller can act on: core's LangChainError family (every LM Studio error class extends
 * it), the guard's ModelHostError (what the context search records), or LangChain's conventional
 * AbortError/TimeoutError, which `wrapOpenAIClientError` produces for client-side timeouts and aborts.
 */
export function isTypedError(error: unknown): boolean {
  if (LangChainError.isInstance(error)) return true;
  if (error instanceof ModelHostError) return true;
  return error instanceof Error && (error.name === "TimeoutError" || error.name === "AbortError");
}

export function errorName(error: unknown): string {
  if (error instanceof Error) return error.name === "Error" ? error.constructor.name : error.name;
  return typeof error;
}

export type Settled<T> =
  | { kind: "value"; value: T; ms: number }
  | { kind: "error"; error: unknown; ms: number }
  | { kind: "hang"; ms: number };

/** Runs `work` and reports how it ended; "hang" when it has not settled after `boundMs`. */
export async function settleWithin<T>(work: () => Promise<T>, boundMs: number): Promise<Settled<T>> {
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  const bound = new Promise<"hang">((resolve) => {
    timer = setTimeout(() => resolve("hang"), boundMs);
  });
  try {
    const outcome = await Promise.race([
      work().then(
        (value) => ({ kind: "value" as const, value }),
        (error: unknown) => ({ kind: "error" as const, error }),
      ),
      bound,
    ]);
    const ms = Math.round(performance.now() - started);
    return outcome === "hang" ? { kind: "hang", ms } : { ...outcome, ms };
  } finally {
    clearTimeout(timer);
  }
}

/** Active libuv resources by type (sockets, servers, timers, ...), as Node reports them. */
export function activeResources(): Map<string, number> {
  const counts = new Map<string, number>();
  for (const type of process.getActiveResourcesInfo()) counts.set(type, (counts.get(type) ?? 0) + 1);
  return counts;
}

/** Resource kinds a finished call must have given back. Pipes and TTYs belong to vitest's worker. */
const TRACKED = new Set(["TCPSocketWrap", "TCPServerWrap", "Timeout", "Immediate", "ConnectWrap"]);

function excess(baseline: Map<string, number>): string[] {
  const now = activeResources();
  const extra: string[] = [];
  for (const [type, count] of now) {
    if (!TRACKED.has(type)) continue;
    const over = count - (baseline.get(type) ?? 0);
    if (over > 0) extra.push(`${type}×${over}`);
  }
  return extra;
}

/**
 * Waits (bounded) until no more tracked resources are active than in `baseline`; returns what is
 * still held after `boundMs` (empty when everything was released). Closing a socket takes a few
 * event-loop turns, so an immediate comparison would report released sockets as leaks.
 */
export async function leakedSince(baseline: Map<string, number>, boundMs = 3_000): Promise<string[]> {
  const deadline = performance.now() + boundMs;
  for (;;) {
    const extra = excess(baseline);
    if (extra.length === 0 || performance.now() > deadline) return extra;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** A plain-text table (first row is the header) for test output. */
export function formatTable(rows: string[][]): string {
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => (row[column] ?? "").length)));
  const line = (row: string[]) => `| ${row.map((cell, i) => cell.padEnd(widths[i]!)).join(" | ")} |`;
  const rule = `|${widths.map((width) => "-".repeat(width + 2)).join("|")}|`;
  return [line(rows[0]!), rule, ...rows.slice(1).map(line)].join("\n");
}
