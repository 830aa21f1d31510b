/**
 * The measurements, each run the same way through any path: pgbench for throughput and connection rate, the raw
 * wire client for connect latency and idle sessions, psql `\copy` for bulk transfer. Bulk bytes go from file
 * descriptor to file descriptor (a file or /dev/null) and never through this process.
 */
import { open } from 'node:fs/promises';
import { libpqEnv, runTimed, sampleProcess } from './system.js';
import { openSession } from './wire-client.js';
import type { WireSession, WireTarget } from './wire-client.js';

/** One way to reach the database. */
export interface BenchPath {
  readonly name: string;
  /** A libpq connection string (psql, pgbench). */
  readonly conninfo: string;
  /** Extra environment for libpq tools (PGPASSWORD for the direct path). */
  readonly env: Record<string, string>;
  readonly wire: WireTarget;
  /** The process in the middle, when there is one: its CPU and memory are sampled. */
  readonly pid?: number;
}

/** Transactions per second from pgbench (select-only, no vacuum: the bench roles do not own the tables). */
export async function pgbenchTps(p: BenchPath, seconds: number, extra: readonly string[]): Promise<number> {
  const args = ['-n', '-S', '-c', '8', '-j', '2', '-T', String(seconds), ...extra, p.conninfo];
  const { stdout } = await runTimed('pgbench', args, { env: libpqEnv(p.env), timeoutMs: (seconds + 60) * 1000 });
  const tps = /^tps = ([\d.]+)/m.exec(stdout);
  if (!tps) throw new Error(`no tps in pgbench output through ${p.name}:\n${stdout}`);
  return Number(tps[1]);
}

/** Milliseconds of `count` sequential logins, each closed before the next. */
export async function connectLatencies(p: BenchPath, count: number): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < count; i++) {
    const s = await openSession(p.wire);
    times.push(s.ms);
    s.close();
  }
  return times;
}

export interface BulkResult {
  readonly mbPerSecond: number;
  /** CPU seconds the middle process spent, per GB moved (undefined for the direct path). */
  readonly cpuSecondsPerGb: number | undefined;
}

/** `\copy (query) to stdout` into `outFile` (default /dev/null); `bytes` is the size of that output. */
export async function copyOut(p: BenchPath, query: string, bytes: number, outFile = '/dev/null'): Promise<BulkResult> {
  const out = await open(outFile, 'w');
  try {
    return await withCpu(p, bytes, () => runTimed('psql', psqlArgs(p, [`\\copy (${query}) to stdout`]),
      { env: libpqEnv(p.env), stdio: ['ignore', out.fd, 'pipe'] }));
  } finally {
    await out.close();
  }
}

/** `\copy … from pstdin` of `inFile` into a temporary table (dropped with the session). */
export async function copyIn(p: BenchPath, inFile: string, bytes: number): Promise<BulkResult> {
  const input = await open(inFile, 'r');
  try {
    return await withCpu(p, bytes, () => runTimed('psql', psqlArgs(p, [
      'create temp table bulk_in (g int, s text)', '\\copy bulk_in from pstdin']),
    { env: libpqEnv(p.env), stdio: [input.fd, 'ignore', 'pipe'] }));
  } finally {
    await input.close();
  }
}

function psqlArgs(p: BenchPath, commands: readonly string[]): string[] {
  return [p.conninfo, '-X', '-q', '-v', 'ON_ERROR_STOP=1', ...commands.flatMap((c) => ['-c', c])];
}

async function withCpu(p: BenchPath, bytes: number, run: () => Promise<{ ms: number }>): Promise<BulkResult> {
  const before = p.pid ? await sampleProcess(p.pid) : undefined;
  const { ms } = await run();
  const after = p.pid ? await sampleProcess(p.pid) : undefined;
  return {
    mbPerSecond: bytes / 1e6 / (ms / 1000),
    cpuSecondsPerGb: before && after ? (after.cpuSeconds - before.cpuSeconds) / (bytes / 1e9) : undefined,
  };
}

/** CPU the middle process used during `run`, as a percentage of one core. */
export async function cpuPercentDuring<T>(p: BenchPath, run: () => Promise<T>): Promise<{ value: T; cpuPercent: number | undefined }> {
  const before = p.pid ? await sampleProcess(p.pid) : undefined;
  const started = performance.now();
  const value = await run();
  const seconds = (performance.now() - started) / 1000;
  const after = p.pid ? await sampleProcess(p.pid) : undefined;
  return { value, cpuPercent: before && after ? (100 * (after.cpuSeconds - before.cpuSeconds)) / seconds : undefined };
}

export interface IdleMemory {
  readonly rssIdleKb: number;
  readonly rssHeldKb: number;
  /**
   * The slope of RSS over the number of sessions held (least squares over the steps), or undefined when it is not
   * positive: garbage collected while sessions were opened can shrink RSS by more than they added, and a negative
   * figure would pass any "at most" target without meaning anything.
   */
  readonly perSessionKb: number | undefined;
}

/** Steps in which the sessions are opened, RSS sampled after each. */
export const MEMORY_STEPS = 5;

/**
 * RSS of the middle process before and while `count` idle sessions are open (logged in, one `select 1`, then
 * silent), opened `concurrency` at a time in MEMORY_STEPS equal steps. Per session is the slope over the steps, not
 * (held − idle) ÷ count: the idle figure, taken after other work, may include garbage the heap drops later.
 * Sessions are closed before returning.
 */
export async function idleSessionMemory(p: BenchPath, count: number, concurrency = 25): Promise<IdleMemory> {
  const pid = p.pid;
  if (!pid) throw new Error(`${p.name} has no process to measure`);
  const idle = await steadyRss(pid);
  const points: Array<readonly [number, number]> = [[0, idle]];
  const sessions: WireSession[] = [];
  let opened = 0;
  try {
    for (let step = 1; step <= MEMORY_STEPS; step++) {
      const target = Math.round((count * step) / MEMORY_STEPS);
      await Promise.all(Array.from({ length: concurrency }, async () => {
        while (opened < target) {
          opened++;
          sessions.push(await openSession(p.wire, { timeoutMs: 60_000, query: 'select 1' }));
        }
      }));
      // Let the event loop settle (timers, TLS buffers) before sampling, as a user's idle dashboard would.
      await new Promise((r) => setTimeout(r, 500));
      points.push([target, await steadyRss(pid)]);
    }
    const held = (points.at(-1) as readonly [number, number])[1];
    const slope = leastSquaresSlope(points);
    return { rssIdleKb: idle, rssHeldKb: held, perSessionKb: slope > 0 ? slope : undefined };
  } finally {
    for (const s of sessions) s.close();
    await new Promise((r) => setTimeout(r, 1_000));
  }
}

function leastSquaresSlope(points: ReadonlyArray<readonly [number, number]>): number {
  const n = points.length;
  const mx = points.reduce((a, [x]) => a + x, 0) / n;
  const my = points.reduce((a, [, y]) => a + y, 0) / n;
  const num = points.reduce((a, [x, y]) => a + (x - mx) * (y - my), 0);
  const den = points.reduce((a, [x]) => a + (x - mx) ** 2, 0);
  return num / den;
}

/** Median of five RSS samples 400 ms apart: a garbage-collected heap moves RSS by megabytes between samples. */
async function steadyRss(pid: number): Promise<number> {
  const kb: number[] = [];
  for (let i = 0; i < 5; i++) {
    if (i > 0) await new Promise((r) => setTimeout(r, 400));
    kb.push((await sampleProcess(pid)).rssKb);
  }
  return median(kb);
}

export function percentile(values: readonly number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? Number.NaN;
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  if (sorted.length === 0) return Number.NaN;
  return sorted.length % 2 === 1 ? sorted[mid] as number : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}
