/**
 * The proxy's memory over a soak: samples of its RSS and open file descriptors read from /proc/<pid> (its own,
 * not the load generator's), its heap after a full collection from the preloaded reporter, and the verdict.
 *
 * "Growth beyond noise" is defined as: comparing the median of the first window after warm-up with the median of
 * the last window, heap-after-GC or RSS grew by more than `maxGrowth` (10% by default). Medians of windows make
 * single spikes (a burst of allocations between two collections) irrelevant; the least-squares slope over the
 * whole post-warm-up period is reported alongside, per minute, for the trend.
 */
import { readFile, readdir } from 'node:fs/promises';

export interface MemorySample {
  /** ms since the start of the run. */
  readonly t: number;
  readonly rssKb: number;
  readonly fds: number;
  /** From the reporter inside the proxy: heap still reachable after a full collection, bytes. */
  readonly heapUsed?: number;
}

export interface HeapLine {
  readonly at: number;
  readonly rss: number;
  readonly heapUsed: number;
}

export async function sampleProcess(pid: number, t: number): Promise<MemorySample> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const rss = /^VmRSS:\s+(\d+) kB/m.exec(status);
  const fds = await readdir(`/proc/${pid}/fd`).then((f) => f.length, () => -1);
  return { t, rssKb: Number(rss?.[1] ?? 0), fds };
}

export async function readHeapLines(file: string): Promise<HeapLine[]> {
  const text = await readFile(file, 'utf8').catch(() => '');
  return text.split('\n').filter((l) => l.length > 0).map((l) => JSON.parse(l) as HeapLine);
}

export interface Series {
  /** Median of the first window after warm-up. */
  readonly before: number;
  /** Median of the last window. */
  readonly after: number;
  readonly max: number;
  /** (after - before) / before. */
  readonly growth: number;
  /** Least-squares slope over the post-warm-up samples, units per minute. */
  readonly slopePerMin: number;
}

export interface MemoryVerdict {
  readonly rssKb: Series;
  readonly heapBytes: Series | undefined;
  readonly fds: Series;
  readonly samples: number;
  readonly ok: boolean;
  readonly reason: string;
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? 0 : (s[Math.floor(s.length / 2)] as number);
}

function series(points: ReadonlyArray<{ t: number; v: number }>, windowMs: number): Series {
  const first = points[0]?.t ?? 0;
  const last = points[points.length - 1]?.t ?? 0;
  const before = median(points.filter((p) => p.t <= first + windowMs).map((p) => p.v));
  const after = median(points.filter((p) => p.t >= last - windowMs).map((p) => p.v));
  const n = points.length;
  const mt = points.reduce((a, p) => a + p.t, 0) / Math.max(1, n);
  const mv = points.reduce((a, p) => a + p.v, 0) / Math.max(1, n);
  const num = points.reduce((a, p) => a + (p.t - mt) * (p.v - mv), 0);
  const den = points.reduce((a, p) => a + (p.t - mt) ** 2, 0);
  return { before, after, max: Math.max(0, ...points.map((p) => p.v)), growth: before > 0 ? (after - before) / before : 0,
    slopePerMin: den > 0 ? (num / den) * 60_000 : 0 };
}

/**
 * Judges the samples taken after `warmupMs`. Windows are a fifth of the post-warm-up period (at least three
 * samples' worth), so a ten-minute soak compares roughly its third and its tenth minute.
 */
export function judgeMemory(samples: readonly MemorySample[], warmupMs: number, maxGrowth: number): MemoryVerdict {
  const warm = samples.filter((s) => s.t >= warmupMs);
  const span = (warm[warm.length - 1]?.t ?? 0) - (warm[0]?.t ?? 0);
  const interval = warm.length > 1 ? span / (warm.length - 1) : 0;
  const windowMs = Math.max(span / 5, interval * 2.5);
  const rssKb = series(warm.map((s) => ({ t: s.t, v: s.rssKb })), windowMs);
  const fds = series(warm.map((s) => ({ t: s.t, v: s.fds })), windowMs);
  const withHeap = warm.filter((s) => s.heapUsed !== undefined);
  const heapBytes = withHeap.length >= 3 ? series(withHeap.map((s) => ({ t: s.t, v: s.heapUsed as number })), windowMs) : undefined;
  const problems: string[] = [];
  if (warm.length < 6) problems.push(`only ${warm.length} samples after warm-up`);
  if (rssKb.growth > maxGrowth) problems.push(`RSS grew ${(rssKb.growth * 100).toFixed(1)}%`);
  if (heapBytes && heapBytes.growth > maxGrowth) problems.push(`heap after GC grew ${(heapBytes.growth * 100).toFixed(1)}%`);
  return { rssKb, heapBytes, fds, samples: warm.length, ok: problems.length === 0,
    reason: problems.length > 0 ? problems.join('; ') : `growth within ${(maxGrowth * 100).toFixed(0)}% after warm-up` };
}
