/**
 * The measuring itself: every workload runs through every path in turn, round after round, the order of the paths
 * rotated each round so that none always goes first (cold caches) or last (a warmer machine). Before the rounds,
 * while they are fresh, each middle process's memory per idle session as the OS sees it (idle-memory.ts); each round
 * ends with the proxy's idle-session slope after other work; the proxy's memory is sampled after a GC at each
 * round's start and once more at the end.
 */
import { stat } from 'node:fs/promises';
import { allPaths } from './setup.js';
import type { Bench } from './setup.js';
import { describeSessionMemory, sessionMemory } from './idle-memory.js';
import { Samples } from './report.js';
import { sampleProcess } from './system.js';
import {
  connectLatencies, copyIn, copyOut, cpuPercentDuring, idleSessionMemory, MEMORY_STEPS, percentile,
  pgbenchTps,
} from './workloads.js';
import type { BenchPath } from './workloads.js';

export interface RoundOptions {
  readonly rounds: number;
  readonly selectSeconds: number;
  readonly connrateSeconds: number;
  readonly connects: number;
  /** Rows of the bulk query; its output size is measured once, into `bulkFile`. */
  readonly bulkRows: number;
  readonly bulkFile: string;
  readonly idleSessions: number;
}

/** Bytes per row of the bulk query's text output (see bulkQuery), to size it for so many megabytes. */
export const BULK_ROW_BYTES = 258;

/** ~260 bytes a row (a number, a tab, 250 characters, a newline): a wide-ish fact table's text form. */
export const bulkQuery = (rows: number): string =>
  `select g, repeat('abcdefghij', 25) from generate_series(1, ${rows}) g`;

export async function runRounds(b: Bench, o: RoundOptions, say: (line: string) => void): Promise<Samples> {
  const s = new Samples();
  const all = allPaths(b);
  const bulkPaths = all.filter((p) => p !== b.proxyWarm);

  // One login each first: the proxy fetches its credential, pgbouncer opens a server connection.
  for (const p of all) await connectLatencies(p, 3);
  // Memory per idle session as the OS sees it, while the middle processes are fresh (idle-memory.ts).
  for (const p of [b.pgbouncer, b.nodeRelay, b.goRelay, b.proxy]) {
    if (!p) continue;
    const m = await sessionMemory(p, o.idleSessions, p === b.proxy ? () => b.proxyMemoryAfterGc() : undefined);
    s.add('os_rss_per_session_kb', p.name, m.perSession.vmRss);
    s.add('os_pss_per_session_kb', p.name, m.perSession.pss);
    s.add('heap_per_session_kb', p.name, m.heapPerSessionKb);
    say(`  memory      ${pad(p)} fresh, ${o.idleSessions} idle sessions: ${describeSessionMemory(m)}`);
  }
  // The bulk output, once, straight from the server: its size is the byte count of every later copy.
  await copyOut(b.direct, bulkQuery(o.bulkRows), 1, o.bulkFile);
  const bulkBytes = (await stat(o.bulkFile)).size;
  say(`bulk transfer: ${(bulkBytes / 1e6).toFixed(0)} MB each way`);

  for (let round = 0; round < o.rounds; round++) {
    const order = rotate(all, round);
    const bulkOrder = rotate(bulkPaths, round);
    say(`round ${round + 1}/${o.rounds}: order ${order.map((p) => p.name).join(', ')}`);
    if (b.proxy.pid) s.add('rss_idle_mb', 'proxy', (await sampleProcess(b.proxy.pid)).rssKb / 1024);
    await sampleAfterGc(b, s);

    for (const p of order) {
      const r = await cpuPercentDuring(p, () => pgbenchTps(p, o.selectSeconds, ['-M', 'extended']));
      s.add('select_tps', p.name, r.value);
      s.add('select_cpu_pct', p.name, r.cpuPercent);
      s.add('select_cpu_us_per_txn', p.name, perUnit(r.cpuPercent, r.value, 1e6));
      say(`  select      ${pad(p)} ${r.value.toFixed(0)} tps${r.cpuPercent === undefined ? '' : `, middle CPU ${r.cpuPercent.toFixed(0)}%`}`);
    }
    for (const p of order) {
      const r = await cpuPercentDuring(p, () => pgbenchTps(p, o.connrateSeconds, ['-C']));
      const tps = r.value;
      const cpuMs = perUnit(r.cpuPercent, tps, 1e3);
      s.add('connrate_tps', p.name, tps);
      s.add('connrate_cpu_ms_per_conn', p.name, cpuMs);
      say(`  connrate    ${pad(p)} ${tps.toFixed(0)} connections/s${cpuMs === undefined ? '' : `, middle CPU ${cpuMs.toFixed(2)} ms each`}`);
    }
    for (const p of order) {
      const ms = await connectLatencies(p, o.connects);
      s.add('connect_p50_ms', p.name, percentile(ms, 0.5));
      s.add('connect_p99_ms', p.name, percentile(ms, 0.99));
      say(`  connect     ${pad(p)} p50 ${percentile(ms, 0.5).toFixed(2)} ms, p99 ${percentile(ms, 0.99).toFixed(2)} ms`);
    }
    for (const p of bulkOrder) {
      const out = await copyOut(p, bulkQuery(o.bulkRows), bulkBytes);
      const into = await copyIn(p, o.bulkFile, bulkBytes);
      s.add('copy_out_mbps', p.name, out.mbPerSecond);
      s.add('copy_in_mbps', p.name, into.mbPerSecond);
      s.add('copy_out_cpu_s_per_gb', p.name, out.cpuSecondsPerGb);
      s.add('copy_in_cpu_s_per_gb', p.name, into.cpuSecondsPerGb);
      say(`  copy        ${pad(p)} out ${out.mbPerSecond.toFixed(0)} MB/s, in ${into.mbPerSecond.toFixed(0)} MB/s` +
        (out.cpuSecondsPerGb === undefined ? '' : `; middle CPU ${out.cpuSecondsPerGb.toFixed(2)} / ${(into.cpuSecondsPerGb ?? 0).toFixed(2)} s/GB`));
    }
    // The proxy's every round, so that each round repeats the same work (the growth check compares round starts);
    // (pgbouncer's and the relays' memory is measured once, fresh, above: they keep the memory of their first clients.)
    for (const p of [b.proxy]) {
      const m = await idleSessionMemory(p, o.idleSessions);
      s.add('rss_per_session_kb', p.name, m.perSessionKb);
      if (p !== b.proxy) s.add('rss_idle_mb', p.name, m.rssIdleKb / 1024);
      say(`  memory      ${pad(p)} idle ${(m.rssIdleKb / 1024).toFixed(1)} MB, with ${o.idleSessions} sessions ` +
        `${(m.rssHeldKb / 1024).toFixed(1)} MB: ${m.perSessionKb === undefined ? 'no positive slope (garbage collected meanwhile)' : `${m.perSessionKb.toFixed(1)} KB each (slope over ${MEMORY_STEPS} steps)`}`);
    }
  }

  if (b.proxy.pid) {
    const after = (await sampleProcess(b.proxy.pid)).rssKb / 1024;
    s.add('rss_idle_mb', 'proxy', after);
    await sampleAfterGc(b, s);
    say(`  memory      ${pad(b.proxy)} idle at the end: ${after.toFixed(1)} MB`);
  }
  return s;
}

/** The proxy's RSS and JS heap right after a full collection: what stays, without garbage not yet collected. */
async function sampleAfterGc(b: Bench, s: Samples): Promise<void> {
  const m = await b.proxyMemoryAfterGc();
  s.add('rss_after_gc_mb', 'proxy', m.rssMb);
  s.add('heap_after_gc_mb', 'proxy', m.heapUsedMb);
}

/** CPU time of the middle process per unit of work (transaction, connection), in 1/scale seconds. */
function perUnit(cpuPercent: number | undefined, perSecond: number, scale: number): number | undefined {
  return cpuPercent === undefined || perSecond <= 0 ? undefined : ((cpuPercent / 100) / perSecond) * scale;
}

function rotate<T>(items: readonly T[], by: number): T[] {
  const k = by % items.length;
  return [...items.slice(k), ...items.slice(0, k)];
}

function pad(p: BenchPath): string {
  return p.name.padEnd(10);
}
