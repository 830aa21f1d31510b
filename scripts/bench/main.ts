/**
 * `npm run bench [-- --quick] [--rounds N] [--seconds N] [--proxy-args="--no-heal …"] [--no-write]
 *   [--profile select|connrate|copy] [--only connect]`
 *
 * The proxy against what a user would run instead — a direct verified-TLS connection with a password, and
 * pgbouncer — and against the floors under it — a bare Node relay and a bare Go relay (relays.ts; the Go one when
 * Go can be had, else the run says why and goes on) — on the same machine in one run. Prints a table and `name=value` lines and rewrites the generated
 * section of docs/PERFORMANCE.md. With --profile, runs one workload through the proxy under `node --cpu-prof`
 * and prints where its CPU time went instead. With --only connect, runs the connect-latency workload alone (every
 * path, --rounds rounds, order rotated) and prints its p50/p99 without touching docs/PERFORMANCE.md.
 * With --rtt MS [--api-latency MS], runs the network-distance table instead (scripts/bench/distance.ts: the
 * upstream behind a delay forwarder, the emulator answering each AWS call after the latency) and skips the
 * loopback rounds; it prints the table and does not touch docs/PERFORMANCE.md. With --rtt and --only bulk, only the
 * 100k-row result, 21 runs per path.
 * Exit codes: 0 done, 1 failed, 2 bad usage, 130 on SIGINT.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { formatSummary, summarizeProfile } from './cpu-profile.js';
import { runDistance } from './distance.js';
import { proxySupportsWarm } from './proxy-process.js';
import { buildGoRelay } from './relays.js';
import type { GoRelayBuild } from './relays.js';
import { floors, nameValues, table, targets, writePerformanceDoc } from './report.js';
import type { RunInfo } from './report.js';
import { BULK_ROW_BYTES, bulkQuery, runRounds } from './rounds.js';
import type { RoundOptions } from './rounds.js';
import { allPaths, startBench } from './setup.js';
import type { Bench } from './setup.js';
import { describeMachine, ensurePgbouncer, execText } from './system.js';
import { connectLatencies, copyIn, copyOut, cpuPercentDuring, median, percentile, pgbenchTps } from './workloads.js';
import { runScript } from '../run-script.js';

const SCALE = 10;
/** Spare upstream connections per identity for the `--warm` column: one per pgbench client. */
const WARM = 8;
const IDLE_SESSIONS = 500;
const PROFILES = ['select', 'connrate', 'copy'] as const;
type ProfileWorkload = (typeof PROFILES)[number];

const say = (line: string): void => {
  process.stderr.write(`${line}\n`);
};

async function main(argv: string[]): Promise<number> {
  let flags;
  try {
    flags = parseArgs({ args: argv, strict: true, options: {
      quick: { type: 'boolean', default: false },
      rounds: { type: 'string' },
      seconds: { type: 'string' },
      'no-write': { type: 'boolean', default: false },
      profile: { type: 'string' },
      'proxy-args': { type: 'string', default: '' },
      only: { type: 'string' },
      rtt: { type: 'string' },
      'api-latency': { type: 'string' },
      warm: { type: 'string' },
    } }).values;
  } catch (err) {
    say(`bench: ${(err as Error).message}`);
    return 2;
  }
  const profile = flags.profile as ProfileWorkload | undefined;
  if (profile !== undefined && !PROFILES.includes(profile)) {
    say(`bench: --profile takes one of ${PROFILES.join(', ')}`);
    return 2;
  }
  const distance = flags.rtt !== undefined || flags['api-latency'] !== undefined;
  if (flags.only !== undefined && !(flags.only === 'connect' || (distance && flags.only === 'bulk'))) {
    say('bench: --only takes connect (and, with --rtt, bulk)');
    return 2;
  }
  const seconds = Number(flags.seconds ?? (flags.quick ? 5 : 12));
  const rounds = Number(flags.rounds ?? (flags.quick ? 1 : 5));
  if (!(seconds > 0 && Number.isInteger(rounds) && rounds > 0)) {
    say('bench: --seconds and --rounds take positive numbers');
    return 2;
  }
  if (!existsSync('dist/src/bin.js')) {
    say('bench: dist/src/bin.js is missing; run it as `npm run bench` (which builds first)');
    return 1;
  }
  const bulkMb = flags.quick ? 50 : 200;
  // Extra proxy flags for both proxy paths (e.g. --no-heal to measure what session tracking costs).
  const proxyArgs = (flags['proxy-args'] ?? '').split(/\s+/).filter(Boolean);
  if (distance) {
    const rttMs = Number(flags.rtt ?? Number.NaN);
    const apiLatencyMs = Number(flags['api-latency'] ?? 0);
    const warmSpares = Number(flags.warm ?? 4);
    if (!(rttMs >= 0 && apiLatencyMs >= 0 && Number.isInteger(warmSpares) && warmSpares > 0)) {
      say('bench: --rtt (required with --api-latency) and --api-latency take milliseconds, --warm a positive whole number');
      return 2;
    }
    if (!(await proxySupportsWarm())) {
      say('bench: this build of the proxy has no --warm; the network-distance table needs it');
      return 1;
    }
    say(`bench: network distance, ${rttMs} ms round trip, ${apiLatencyMs} ms per API call (loopback rounds skipped)`);
    const text = await runDistance({ rttMs, apiLatencyMs, warm: warmSpares, proxyArgs, say,
      ...(flags.only === 'bulk' ? { connects: 0, bursts: 0, bulkRuns: 21 }
        : { connects: flags.rounds !== undefined ? rounds * 10 : flags.quick ? 15 : 40, bursts: flags.quick ? 3 : 5,
          bulkRuns: flags.quick ? 3 : 9 }) });
    process.stdout.write(`\n$ npm run bench -- ${argv.join(' ')}   (${new Date().toISOString()})\n\n${text}\n`);
    return 0;
  }
  const work = await mkdtemp(path.join(tmpdir(), 'rap-bench-'));
  const loadAtStart = loadavg()[0] ?? 0;
  const o: RoundOptions = {
    rounds, selectSeconds: seconds, connrateSeconds: Math.max(3, Math.round(seconds * 0.75)), connects: 200,
    bulkRows: Math.round((bulkMb * 1e6) / BULK_ROW_BYTES), bulkFile: path.join(work, 'bulk.tsv'), idleSessions: IDLE_SESSIONS,
  };

  const pgbouncerBinary = await ensurePgbouncer();
  const warm = profile === undefined && (await proxySupportsWarm()) ? WARM : undefined;
  const goRelay: GoRelayBuild = profile === undefined ? await buildGoRelay(path.join(work, 'go-relay')) : { missing: 'not run' };
  if (profile === undefined && 'missing' in goRelay) say(`bench: no bare Go relay: ${goRelay.missing}; the other paths run without it`);
  say(`bench: starting PostgreSQL, the AWS emulator, pgbouncer, ${profile === undefined ? 'the bare relays, ' : ''}the proxy` +
    `${warm ? ` (and the proxy with --warm ${warm})` : ''}`);
  const profileDir = path.join(work, 'cpu-profile');
  let bench: Bench | undefined;
  process.once('SIGINT', () => {
    void (bench?.stop() ?? Promise.resolve()).finally(() => process.exit(130));
  });
  try {
    bench = await startBench({ scale: SCALE, warm, pgbouncerBinary, idleSessions: IDLE_SESSIONS, proxyArgs,
      ...(profile ? { proxyNodeArgs: ['--cpu-prof', '--cpu-prof-dir', profileDir] }
        : { relays: { goBinary: 'binary' in goRelay ? goRelay.binary : undefined } }) });
    if (profile) {
      await profileWorkload(bench, profile, o);
      await bench.stop();
      const files = (await readdir(profileDir)).filter((f) => f.endsWith('.cpuprofile'));
      const file = path.join(profileDir, files[0] ?? 'missing.cpuprofile');
      process.stdout.write(`${formatSummary(await summarizeProfile(file))}\nprofile file: ${file}\n`);
      return 0;
    }
    if (flags.only === 'connect') {
      await connectOnly(bench, o);
      return 0;
    }
    const samples = await runRounds(bench, o, say);
    const info: RunInfo = {
      command: `npm run bench${argv.length > 0 ? ` -- ${argv.join(' ')}` : ''}`,
      machine: await describeMachine(pgbouncerBinary),
      settings: `Per path and round: select ${o.selectSeconds} s, connection rate ${o.connrateSeconds} s, ` +
        `${o.connects} sequential logins, ${bulkMb} MB \\copy out and in; ${o.rounds} round(s), medians; ` +
        `pgbench scale ${SCALE}; ${IDLE_SESSIONS} idle sessions for memory. The proxy runs as \`node dist/src/bin.js\` ` +
        'at its default log level (info); pgbouncer in session mode, `auth_type = trust` on loopback, `verify-full` to the server; ' +
        'the bare relays (scripts/bench/bare-relay.ts, scripts/bench/go-relay/main.go) verify the server over TLS and only copy bytes. ' +
        `Load average (1 min) ${loadAtStart.toFixed(1)} at the start, ${(loadavg()[0] ?? 0).toFixed(1)} at the end: ` +
        'anything else running on the machine shows up as noise.',
      warm,
      goRelay,
      date: new Date(),
      source: await execText('git', ['describe', '--always', '--dirty']).then((t) => t.trim(),
        () => process.env.BENCH_SOURCE ?? 'unknown'),
    };
    process.stdout.write(`\n${table(samples, info)}\n\n${floors(samples, info).join('\n')}\n\n${targets(samples, info).join('\n')}\n\n` +
      `${nameValues(samples, info).join('\n')}\n`);
    if (!flags['no-write']) {
      await writePerformanceDoc('docs/PERFORMANCE.md', samples, info);
      say('bench: wrote docs/PERFORMANCE.md');
    }
    return 0;
  } finally {
    await bench?.stop();
    if (!profile) await rm(work, { recursive: true, force: true });
  }
}

/** The connect workload of runRounds alone: sequential logins per path, the order rotated each round. */
async function connectOnly(b: Bench, o: RoundOptions): Promise<void> {
  const paths = allPaths(b);
  for (const p of paths) await connectLatencies(p, 3);
  const p50s = new Map<string, number[]>(paths.map((p) => [p.name, []]));
  for (let round = 0; round < o.rounds; round++) {
    const order = [...paths.slice(round % paths.length), ...paths.slice(0, round % paths.length)];
    for (const p of order) {
      const ms = await connectLatencies(p, o.connects);
      p50s.get(p.name)?.push(percentile(ms, 0.5));
      say(`  connect     ${p.name.padEnd(10)} p50 ${percentile(ms, 0.5).toFixed(2)} ms, p99 ${percentile(ms, 0.99).toFixed(2)} ms`);
    }
  }
  for (const [name, values] of p50s) process.stdout.write(`connect_p50_ms.${name}=${median(values).toFixed(2)}\n`);
}

/** Runs one workload through the (profiled) proxy only, for as long as a round would. */
async function profileWorkload(b: Bench, workload: ProfileWorkload, o: RoundOptions): Promise<void> {
  await connectLatencies(b.proxy, 3);
  if (workload === 'select') {
    const r = await cpuPercentDuring(b.proxy, () => pgbenchTps(b.proxy, o.selectSeconds, ['-M', 'extended']));
    say(`profiled select: ${r.value.toFixed(0)} tps, proxy CPU ${r.cpuPercent?.toFixed(0)}%`);
  } else if (workload === 'connrate') {
    say(`profiled connrate: ${(await pgbenchTps(b.proxy, o.selectSeconds, ['-C'])).toFixed(0)} connections/s`);
  } else {
    await copyOut(b.direct, bulkQuery(o.bulkRows), 1, o.bulkFile);
    const bytes = (await stat(o.bulkFile)).size;
    const out = await copyOut(b.proxy, bulkQuery(o.bulkRows), bytes);
    const into = await copyIn(b.proxy, o.bulkFile, bytes);
    say(`profiled copy: out ${out.mbPerSecond.toFixed(0)} MB/s (${out.cpuSecondsPerGb?.toFixed(2)} CPU s/GB), ` +
      `in ${into.mbPerSecond.toFixed(0)} MB/s (${into.cpuSecondsPerGb?.toFixed(2)} CPU s/GB)`);
  }
}

runScript('bench', main);
