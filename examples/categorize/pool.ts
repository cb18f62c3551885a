/**
 * Runs `work` over `items` with at most `concurrency` in flight: local servers serve one or a few
 * requests at a time, so unbounded parallelism only queues requests and risks timeouts.
 * Stops taking new items once `signal` aborts.
 */
export async function forEachBounded<T>(
  items: readonly T[],
  concurrency: number,
  work: (item: T) => Promise<void>,
  signal?: AbortSignal,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length && !signal?.aborted) {
      const item = items[next++]!;
      await work(item);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, items.length)) }, worker));
}
