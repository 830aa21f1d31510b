/**
 * Runs an async function over many items with at most `concurrency` in flight — the shape of every load and fuzz
 * driver here: thousands of short jobs, a bounded number of sockets open at once.
 */
export async function runPool<T>(items: Iterable<T>, concurrency: number, fn: (item: T, index: number) => Promise<void>,
  signal?: AbortSignal): Promise<void> {
  const iterator = items[Symbol.iterator]();
  let index = 0;
  const worker = async (): Promise<void> => {
    for (;;) {
      if (signal?.aborted) return;
      const next = iterator.next();
      if (next.done) return;
      await fn(next.value, index++);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, concurrency) }, () => worker()));
}
