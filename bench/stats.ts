import { Bench } from "tinybench";

/**
 * Several tinybench rounds, tasks rotated between rounds so none always runs first; each round yields
 * every task's median latency. Ratios are taken within a round (same moment, same CPU neighbours),
 * then summarised across rounds: that is what stays meaningful on a shared 2-core machine.
 */

export interface RoundOptions {
  rounds: number;
  /** Time budget per task per round (ms); tinybench stops at this or at `iterations`, whichever comes later. */
  time: number;
  iterations: number;
  warmupIterations?: number;
}

export type RoundSamples = Record<string, number[]>;

export async function measureRounds(
  tasks: Record<string, () => Promise<unknown>>,
  options: RoundOptions,
): Promise<RoundSamples> {
  const names = Object.keys(tasks);
  const samples: RoundSamples = Object.fromEntries(names.map((name) => [name, []]));
  for (let round = 0; round < options.rounds; round += 1) {
    const bench = new Bench({
      time: options.time,
      iterations: options.iterations,
      warmupIterations: options.warmupIterations ?? 5,
      warmupTime: 0,
    });
    for (let i = 0; i < names.length; i += 1) {
      const name = names[(i + round) % names.length]!;
      bench.add(name, tasks[name]!);
    }
    await bench.run();
    for (const task of bench.tasks) {
      const result = task.result;
      if (result.state !== "completed") {
        throw new Error(`${task.name}: ${result.state === "errored" ? result.error.message : result.state}`);
      }
      samples[task.name]!.push(result.latency.p50);
    }
  }
  return samples;
}

/**
 * This process's CPU time (user + system) per call, in microseconds, over `calls` sequential calls,
 * for each task, in `rounds` rotated rounds. With the server in another process this is the client's
 * own cost, and other processes on the machine barely change it, unlike wall-clock latency.
 */
export async function cpuPerCallRounds(
  tasks: Record<string, () => Promise<unknown>>,
  options: { rounds: number; calls: number },
): Promise<RoundSamples> {
  const names = Object.keys(tasks);
  const samples: RoundSamples = Object.fromEntries(names.map((name) => [name, []]));
  for (let round = 0; round < options.rounds; round += 1) {
    for (let i = 0; i < names.length; i += 1) {
      const name = names[(i + round) % names.length]!;
      const task = tasks[name]!;
      await task();
      const before = process.cpuUsage();
      for (let call = 0; call < options.calls; call += 1) await task();
      const used = process.cpuUsage(before);
      samples[name]!.push((used.user + used.system) / options.calls);
    }
  }
  return samples;
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Per-round ratio a/b. */
export function ratios(a: number[], b: number[]): number[] {
  return a.map((value, i) => value / b[i]!);
}

const spread = (values: number[], digits: number) =>
  `${Math.min(...values).toFixed(digits)}–${Math.max(...values).toFixed(digits)}`;

/** "1.23× (1.10–1.31, 5 rounds)" */
export function formatRatio(values: number[]): string {
  return `${median(values).toFixed(2)}× (${spread(values, 2)}, ${values.length} rounds)`;
}

/** "2.41 ms (2.30–2.77)" */
export function formatMs(values: number[], unit = "ms"): string {
  const digits = median(values) < 10 ? 2 : median(values) < 100 ? 1 : 0;
  return `${median(values).toFixed(digits)} ${unit} (${spread(values, digits)})`;
}

/** A plain table, padded columns. */
export function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join("  ")
      .trimEnd();
  return [line(headers), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n");
}
