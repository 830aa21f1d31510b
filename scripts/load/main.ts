/**
 * Load and soak runs against the proxy in its own process (`npm run load -- …`):
 *
 *   npm run load -- --sessions 500 --seconds 60     500 sessions held at once, querying for a minute; zero errors
 *   npm run load -- --soak 600                      ten minutes of querying sessions with connection churn, the
 *                                                   proxy's memory sampled every few seconds; fails on growth
 *
 * Exit status: 0 passed, 1 failed (an error, too few sessions held, memory or descriptors grew), 2 bad usage,
 * 130 interrupted.
 */
import { parseArgs } from 'node:util';
import { judgeMemory, readHeapLines, sampleProcess } from './memory.js';
import type { MemorySample, MemoryVerdict } from './memory.js';
import { startLoadPlane } from './plane.js';
import { percentile, runSessionLoad } from './sessions.js';
import type { LoadStats } from './sessions.js';
import { runScript } from '../run-script.js';

const USAGE = `usage: npm run load -- [--sessions N] [--seconds S] [--users U]
       npm run load -- --soak S [--sessions N] [--warmup S] [--sample-every S] [--max-growth F] [--reconnect-every Q]`;

interface Options {
  readonly sessions: number;
  readonly seconds: number;
  readonly users: number;
  /** Soak length in seconds; 0 for a load run. */
  readonly soak: number;
  readonly warmupSeconds: number;
  readonly sampleEverySeconds: number;
  readonly maxGrowth: number;
  readonly reconnectEvery: number;
  readonly thinkMs: number;
}

function parseOptions(argv: string[]): Options | string {
  let values;
  try {
    ({ values } = parseArgs({ args: argv, strict: true, options: {
      sessions: { type: 'string' }, seconds: { type: 'string' }, users: { type: 'string' }, soak: { type: 'string' },
      warmup: { type: 'string' }, 'sample-every': { type: 'string' }, 'max-growth': { type: 'string' },
      'reconnect-every': { type: 'string' }, 'think-ms': { type: 'string' }, help: { type: 'boolean' },
    } }));
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
  if (values.help) return '';
  const num = (v: string | undefined, fallback: number): number => (v === undefined ? fallback : Number(v));
  const soak = num(values.soak, 0);
  const o: Options = {
    soak,
    // A soak holds fewer sessions but churns their connections: leaks live in what is opened and closed.
    sessions: num(values.sessions, soak > 0 ? 200 : 500),
    seconds: soak > 0 ? soak : num(values.seconds, 60),
    users: num(values.users, 10),
    warmupSeconds: num(values.warmup, Math.min(60, Math.round(soak / 5))),
    sampleEverySeconds: num(values['sample-every'], 5),
    maxGrowth: num(values['max-growth'], 0.10),
    reconnectEvery: num(values['reconnect-every'], soak > 0 ? 100 : 0),
    thinkMs: num(values['think-ms'], soak > 0 ? 5 : 0),
  };
  for (const [k, v] of Object.entries(o)) if (!Number.isFinite(v) || v < 0) return `--${k} must be a non-negative number`;
  if (o.sessions < 1 || o.seconds <= 0) return '--sessions and --seconds must be positive';
  if (o.sessions + 50 > 700) return 'the test bed allows 700 connections: use at most 650 sessions';
  return o;
}

function mb(kb: number): string {
  return `${(kb / 1024).toFixed(1)} MB`;
}

function report(o: Options, stats: LoadStats, verdict: MemoryVerdict | undefined, fdsBefore: number, fdsAfter: number): string[] {
  const secs = o.seconds;
  const lines = [
    `load: ${stats.peakOpen} sessions held at once (of ${o.sessions}), connected in ${stats.connectMs} ms; ` +
      `${stats.connected} connections in all, ${stats.reconnects} reconnects`,
    `load: ${stats.queries} queries in ${secs} s (${Math.round(stats.queries / secs)}/s), latency p50 ` +
      `${percentile(stats.latencies, 50).toFixed(1)} ms, p99 ${percentile(stats.latencies, 99).toFixed(1)} ms`,
    `load: errors: ${stats.errorCount}${stats.errors.length > 0 ? `\n  ${stats.errors.slice(0, 10).join('\n  ')}` : ''}`,
    `load: proxy file descriptors before ${fdsBefore}, after the sessions closed ${fdsAfter}`,
  ];
  if (verdict) {
    const h = verdict.heapBytes;
    lines.push(
      `soak: ${verdict.samples} samples after a ${o.warmupSeconds} s warm-up`,
      `soak: RSS ${mb(verdict.rssKb.before)} → ${mb(verdict.rssKb.after)} (${(verdict.rssKb.growth * 100).toFixed(1)}%), ` +
        `max ${mb(verdict.rssKb.max)}, slope ${mb(verdict.rssKb.slopePerMin)}/min`,
      h ? `soak: heap after GC ${mb(h.before / 1024)} → ${mb(h.after / 1024)} (${(h.growth * 100).toFixed(1)}%), ` +
        `max ${mb(h.max / 1024)}, slope ${mb(h.slopePerMin / 1024)}/min` : 'soak: no heap figures from the proxy',
      `soak: file descriptors ${verdict.fds.before} → ${verdict.fds.after}, max ${verdict.fds.max}`,
      `soak: ${verdict.ok ? 'PASS' : 'FAIL'}: ${verdict.reason}`,
    );
  }
  return lines;
}

async function main(argv: string[]): Promise<number> {
  const parsed = parseOptions(argv);
  if (typeof parsed === 'string') {
    process.stderr.write(`${parsed ? `load: ${parsed}\n` : ''}${USAGE}\n`);
    return parsed ? 2 : 0;
  }
  const o = parsed;
  const plane = await startLoadPlane({ memoryIntervalMs: o.sampleEverySeconds * 1_000 });
  let interrupted = false;
  const onSigint = (): void => {
    interrupted = true;
    process.stderr.write('load: interrupted; cleaning up\n');
    void plane.stop().then(() => process.exit(130));
  };
  process.once('SIGINT', onSigint);
  try {
    const samples: MemorySample[] = [];
    const started = Date.now();
    const fdsBefore = (await sampleProcess(plane.proxy.pid, 0)).fds;
    const sampler = setInterval(() => {
      void sampleProcess(plane.proxy.pid, Date.now() - started).then((s) => samples.push(s), () => undefined);
    }, o.sampleEverySeconds * 1_000);
    let stats: LoadStats;
    try {
      stats = await runSessionLoad({
        port: plane.proxy.port, sessions: o.sessions, durationMs: o.seconds * 1_000, users: o.users,
        ...(o.reconnectEvery > 0 ? { reconnectEvery: o.reconnectEvery } : {}), thinkMs: o.thinkMs,
        onProgress: (s) => {
          const t = Math.round((Date.now() - started) / 1000);
          if (t % 10 === 0) process.stderr.write(`load: ${t} s: ${s.open} open, ${s.queries} queries, ${s.errorCount} errors\n`);
        },
      });
    } finally {
      clearInterval(sampler);
    }
    // Every session has ended: what the proxy still holds now, it holds for nobody.
    await new Promise((r) => setTimeout(r, 3_000));
    const fdsAfter = (await sampleProcess(plane.proxy.pid, Date.now() - started)).fds;
    let verdict: MemoryVerdict | undefined;
    if (o.soak > 0) {
      const heap = await readHeapLines(plane.memoryFile);
      // Each /proc sample gets the heap figure reported nearest in time.
      const withHeap = samples.map((s) => {
        const at = started + s.t;
        const near = heap.reduce<typeof heap[number] | undefined>((best, h) =>
          (best === undefined || Math.abs(h.at - at) < Math.abs(best.at - at) ? h : best), undefined);
        return near ? { ...s, heapUsed: near.heapUsed } : s;
      });
      verdict = judgeMemory(withHeap, o.warmupSeconds * 1_000, o.maxGrowth);
    }
    process.stdout.write(`${report(o, stats, verdict, fdsBefore, fdsAfter).join('\n')}\n`);
    const fdLeak = fdsAfter > fdsBefore + 10;
    if (fdLeak) process.stdout.write(`load: FAIL: the proxy kept ${fdsAfter - fdsBefore} more file descriptors after every session ended\n`);
    const held = stats.peakOpen >= o.sessions;
    if (!held) process.stdout.write(`load: FAIL: only ${stats.peakOpen} of ${o.sessions} sessions were open at once\n`);
    return stats.errorCount === 0 && held && !fdLeak && (verdict?.ok ?? true) ? 0 : 1;
  } finally {
    process.off('SIGINT', onSigint);
    if (!interrupted) await plane.stop();
  }
}

runScript('load', main);
