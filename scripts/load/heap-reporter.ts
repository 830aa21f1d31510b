/**
 * Preloaded into the proxy's process for soak runs (`node --expose-gc --import …/heap-reporter.js dist/src/bin.js`):
 * every RAP_LOAD_MEMORY_INTERVAL_MS it collects garbage (when --expose-gc allows) and appends one JSON line with
 * the process's own memory figures to RAP_LOAD_MEMORY_FILE. A heap measured right after a full collection is what
 * is still reachable, so growth there is a leak rather than garbage not yet collected. With
 * RAP_LOAD_MEMORY_ON_SIGNAL=1 it samples only when sent SIGUSR2 (the benchmark asks at each round's start, so no
 * collection lands in the middle of a measurement). Nothing in the product depends on it; without the variables it
 * does nothing.
 */
import { appendFileSync } from 'node:fs';

const file = process.env.RAP_LOAD_MEMORY_FILE;
const intervalMs = Number(process.env.RAP_LOAD_MEMORY_INTERVAL_MS ?? 5_000);
const gc = (globalThis as { gc?: () => void }).gc;

if (file) {
  const sample = (): void => {
    gc?.();
    const m = process.memoryUsage();
    appendFileSync(file, `${JSON.stringify({ at: Date.now(), rss: m.rss, heapUsed: m.heapUsed, external: m.external,
      arrayBuffers: m.arrayBuffers, afterGc: gc !== undefined })}\n`);
  };
  sample();
  if (process.env.RAP_LOAD_MEMORY_ON_SIGNAL === '1') process.on('SIGUSR2', sample);
  else setInterval(sample, intervalMs).unref();
}
