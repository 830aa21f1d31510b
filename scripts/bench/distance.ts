/**
 * `npm run bench -- --rtt 20 --api-latency 150`: what a user feels at a network distance. The test-bed PostgreSQL
 * is reached only through a delay forwarder (rtt/2 each way), and the AWS emulator answers every API call after
 * --api-latency ms. Paths, each logging in with the bench's raw wire client:
 *   direct       a password login (verified TLS) through the forwarder;
 *   iam_driver   what the Redshift drivers do: one GetClusterCredentials call (the real AWS SDK) and a login with
 *                the temporary password, per connection;
 *   proxy_cold   the proxy for a database user it has no credential for yet (a new user per connection or burst);
 *   proxy_cached the proxy for a user whose credential it holds;
 *   proxy_warm   the proxy with `--warm N --warm-total 32`: the first burst finds N spares (the rest log in), and
 *                the pool keeps the burst's connections for the next one (reported apart: first and later bursts).
 * Figures: connect p50/p99 (TCP connect to ReadyForQuery, and to the answer of a first `select 1`), first-query
 * latency, a dashboard's burst of 20 connections at once (until all 20 have answered `select 1`), and a 100k-row
 * result of 100-byte values. Then the targets of issue 20 item 3, met or not.
 */
import { GetClusterCredentialsCommand, RedshiftClient } from '@aws-sdk/client-redshift';
import { loadavg } from 'node:os';
import { createPgDataPlane, startEmulator } from '../../src/emulator/index.js';
import { startTestBed } from '../../test/support/pg-server.js';
import { TEST_CLUSTER, TEST_REGION, testPrincipal, useTestAwsEnvironment } from '../../test/support/stack.js';
import { startDelayForwarder } from './delay-forwarder.js';
import { startProxyProcess } from './proxy-process.js';
import { execText } from './system.js';
import { openSession } from './wire-client.js';
import type { WireSession, WireTarget } from './wire-client.js';
import { median, percentile } from './workloads.js';

const ROLE = 'bench';
const PASSWORD = 'bench-static-password';
const DATABASE = 'dev';
const BURST = 20;
const BULK_ROWS = 100_000;
/** --warm-total of the proxy_warm path: room for a burst's connections (the default, 4 × --warm, may be less). */
const WARM_TOTAL = 32;
const BULK_QUERY = `select repeat('x', 100) from generate_series(1, ${BULK_ROWS})`;

export interface DistanceOptions {
  readonly rttMs: number;
  readonly apiLatencyMs: number;
  /** Sequential connects per path. */
  readonly connects: number;
  /** Bursts of 20 per path. */
  readonly bursts: number;
  /** Runs of the 100k-row query per path. */
  readonly bulkRuns: number;
  /** Spares for the proxy_warm path (its --warm-total is room for a burst beside them). */
  readonly warm: number;
  readonly proxyArgs: readonly string[];
  readonly say: (line: string) => void;
}

const PATHS = ['direct', 'iam_driver', 'proxy_cold', 'proxy_cached', 'proxy_warm'] as const;
type PathName = (typeof PATHS)[number];
const LABELS: Record<PathName, string> = {
  direct: 'direct (password)',
  iam_driver: "drivers' IAM way (API call + login per connection)",
  proxy_cold: 'proxy, cold (no cached credential)',
  proxy_cached: 'proxy, cached credential',
  proxy_warm: 'proxy --warm',
};

/** A timed login: `ms` until ReadyForQuery, `totalMs` until the answer of `select 1`, both from the first step. */
type Login = (user?: string) => Promise<{ ms: number; totalMs: number; session: WireSession }>;

/** The median burst after the first (the first finds the pool as --warm left it), and the first. */
const laterBursts = (f: PathFigures): number => median(f.burstMs.slice(1));
const firstBurst = (f: PathFigures): number => f.burstMs[0] ?? Number.NaN;

interface PathFigures {
  connectMs: number[];
  totalMs: number[];
  firstQueryMs: number[];
  burstMs: number[];
  burstApiCalls: number[];
  bulkMs: number[];
}

export async function runDistance(o: DistanceOptions): Promise<string> {
  useTestAwsEnvironment();
  const loadAtStart = loadavg()[0] ?? 0;
  const stops: Array<() => Promise<void>> = [];
  try {
    const bed = await startTestBed({ maxConnections: 400 });
    stops.push(() => bed.stop());
    await bed.createLoginRole(ROLE, PASSWORD);
    const forwarder = await startDelayForwarder({ targetHost: '127.0.0.1', targetPort: bed.port, oneWayMs: o.rttMs / 2 });
    stops.push(() => forwarder.close());
    const emulator = await startEmulator({
      principals: [testPrincipal],
      clusters: [{ id: TEST_CLUSTER, endpoint: { address: 'localhost', port: forwarder.port }, region: TEST_REGION }],
      dataPlane: createPgDataPlane((sql, params) => bed.superuserQuery(sql, params), { database: DATABASE }),
    });
    stops.push(() => emulator.close());
    emulator.setDelay(o.apiLatencyMs);
    const proxyOptions = { upstreamPort: forwarder.port, caFile: bed.caCertPath, clusterId: TEST_CLUSTER, region: TEST_REGION,
      awsEndpointUrl: emulator.url, extraArgs: o.proxyArgs };
    const proxy = await startProxyProcess(proxyOptions);
    stops.push(() => proxy.stop());
    const proxyWarm = await startProxyProcess({ ...proxyOptions, extraArgs: [...o.proxyArgs, '--warm', String(o.warm),
      '--warm-total', String(Math.max(WARM_TOTAL, o.warm))] });
    stops.push(() => proxyWarm.stop());
    const redshift = new RedshiftClient({ region: TEST_REGION, endpoint: emulator.url });
    stops.push(async () => redshift.destroy());

    const tlsTarget: WireTarget = { host: '127.0.0.1', port: forwarder.port, user: ROLE, database: DATABASE, password: PASSWORD,
      tls: { ca: bed.caPem, servername: 'localhost' } };
    const timed = (target: WireTarget): Promise<{ ms: number; totalMs: number; session: WireSession }> =>
      openSession(target, { query: 'select 1', timeoutMs: 60_000 }).then((s) => ({ ms: s.ms, totalMs: s.totalMs, session: s }));
    const viaProxy = (port: number, user: string): WireTarget => ({ host: '127.0.0.1', port, user, database: DATABASE });
    let fresh = 0;
    const logins: Record<PathName, Login> = {
      direct: () => timed(tlsTarget),
      iam_driver: async (user) => {
        const started = performance.now();
        const out = await redshift.send(new GetClusterCredentialsCommand({ ClusterIdentifier: TEST_CLUSTER, DbUser: user ?? ROLE,
          DbName: DATABASE, AutoCreate: true }));
        if (!out.DbUser || !out.DbPassword) throw new Error('GetClusterCredentials returned no DbUser or DbPassword');
        const api = performance.now() - started;
        const s = await timed({ ...tlsTarget, user: out.DbUser, password: out.DbPassword });
        return { ms: api + s.ms, totalMs: api + s.totalMs, session: s.session };
      },
      proxy_cold: (user) => timed(viaProxy(proxy.port, user ?? `cold_${++fresh}`)),
      proxy_cached: () => timed(viaProxy(proxy.port, ROLE)),
      proxy_warm: () => timed(viaProxy(proxyWarm.port, ROLE)),
    };

    const figures = new Map<PathName, PathFigures>();
    for (const name of PATHS) {
      const f: PathFigures = { connectMs: [], totalMs: [], firstQueryMs: [], burstMs: [], burstApiCalls: [], bulkMs: [] };
      figures.set(name, f);
      const login = logins[name];
      // Warm-up (not counted): the proxy's credential, the SDK's connection to the emulator, the warm pool's spares.
      for (let i = 0; i < 3; i++) (await login()).session.close();
      if (name === 'proxy_warm') await pause(2_000);
      for (let i = 0; i < o.connects; i++) {
        const l = await login();
        f.connectMs.push(l.ms);
        f.totalMs.push(l.totalMs);
        f.firstQueryMs.push(l.totalMs - l.ms);
        l.session.close();
      }
      o.say(`  distance ${name.padEnd(12)} connect p50 ${percentile(f.connectMs, 0.5).toFixed(0)} ms, ` +
        `p99 ${percentile(f.connectMs, 0.99).toFixed(0)} ms (with select 1: p50 ${percentile(f.totalMs, 0.5).toFixed(0)} ms)`);
      for (let b = 0; b < o.bursts; b++) {
        await pause(name === 'proxy_warm' ? 2_000 : 300);
        const callsBefore = emulator.calls.GetClusterCredentials;
        // A cold burst: 20 tools of one user the proxy has not seen yet (its credential is fetched once for all).
        const user = name === 'proxy_cold' ? `burst_${++fresh}` : undefined;
        const started = performance.now();
        // The emulator keeps one password per database user (each call replaces it), so the drivers' tools of a burst
        // log in as 20 users: each still makes its own API call and login.
        const sessions = await Promise.all(Array.from({ length: BURST }, (_, i) => login(name === 'iam_driver' ? `iam_${i}` : user)));
        f.burstMs.push(performance.now() - started);
        f.burstApiCalls.push(emulator.calls.GetClusterCredentials - callsBefore);
        for (const s of sessions) s.session.close();
      }
      o.say(`  distance ${name.padEnd(12)} burst of ${BURST}: first ${firstBurst(f).toFixed(0)} ms, later ` +
        `${laterBursts(f).toFixed(0)} ms, ${median(f.burstApiCalls)} API call(s)`);
      if (name === 'direct' || name === 'proxy_cached' || name === 'proxy_warm') {
        const s = (await login()).session;
        for (let r = 0; r < o.bulkRuns; r++) f.bulkMs.push(await s.query(BULK_QUERY));
        s.close();
        o.say(`  distance ${name.padEnd(12)} ${BULK_ROWS} rows: ${median(f.bulkMs).toFixed(0)} ms`);
      }
    }
    const netem = await netemAvailable();
    const lines = report(figures, o, {
      delay: `loopback TCP forwarder (scripts/bench/delay-forwarder.ts), ${o.rttMs / 2} ms each way` +
        (netem === true ? ' (netem is available here but the bench does not use it yet)' : ` (netem: ${netem})`),
      load: `load average (1 min) ${loadAtStart.toFixed(1)} at the start, ${(loadavg()[0] ?? 0).toFixed(1)} at the end`,
    });
    return lines.join('\n');
  } finally {
    for (const s of stops.reverse()) await s().catch((err: unknown) => o.say(`bench: cleanup: ${String(err)}`));
  }
}

function report(figures: ReadonlyMap<PathName, PathFigures>, o: DistanceOptions, how: { delay: string; load: string }): string[] {
  const get = (p: PathName): PathFigures => figures.get(p) as PathFigures;
  const fmt = (v: number): string => (Number.isFinite(v) ? v.toFixed(0) : '—');
  const row = (label: string, cell: (f: PathFigures, p: PathName) => string): string =>
    `| ${label} | ${PATHS.map((p) => cell(get(p), p)).join(' | ')} |`;
  const p50 = (v: number[]): number => percentile(v, 0.5);
  const p99 = (v: number[]): number => percentile(v, 0.99);
  const direct = get('direct');
  const lines = [
    `Network distance: ${o.rttMs} ms added round trip to PostgreSQL, ${o.apiLatencyMs} ms per AWS API call; ` +
      `${o.connects} sequential connects, ${o.bursts} bursts of ${BURST}, ${o.bulkRuns} runs of ${BULK_ROWS} rows per path ` +
      `(--warm ${o.warm}). Delay: ${how.delay}. ${how.load}. The loopback rounds were skipped (run without --rtt for them).`,
    '',
    `| | ${PATHS.map((p) => LABELS[p]).join(' | ')} |`,
    `|---|${PATHS.map(() => '---').join('|')}|`,
    row('connect p50 / p99, ms (TCP connect → ReadyForQuery)', (f) => `${fmt(p50(f.connectMs))} / ${fmt(p99(f.connectMs))}`),
    row('connect + first `select 1` p50 / p99, ms', (f) => `${fmt(p50(f.totalMs))} / ${fmt(p99(f.totalMs))}`),
    row('first-query latency p50, ms', (f) => fmt(p50(f.firstQueryMs))),
    row(`${BURST} connections at once, all answered, ms: first burst / median of the later ones`,
      (f) => `${fmt(firstBurst(f))} / ${fmt(laterBursts(f))}`),
    row(`API calls per burst of ${BURST}`, (f, p) => (p === 'direct' ? '—' : String(median(f.burstApiCalls)))),
    row(`${BULK_ROWS / 1000}k rows of 100 bytes, ms (median)`, (f) => (f.bulkMs.length > 0 ? fmt(median(f.bulkMs)) : '—')),
    '',
  ];
  const verdict = (ok: boolean): string => (ok ? 'met' : 'NOT MET');
  const ratio = (a: number, b: number): string => `${(a / b).toFixed(2)}×`;
  const cached = get('proxy_cached');
  const warm = get('proxy_warm');
  const cold = get('proxy_cold');
  const iam = get('iam_driver');
  const bulkSpeed = median(direct.bulkMs) / median(cached.bulkMs);
  const [coldBurst, iamBurst, warmBurst, directBurst] = [cold, iam, warm, direct].map(laterBursts) as [number, number, number, number];
  const targetLines = [
    `target cached connect ≤ direct (connect + select 1, p50): ${fmt(p50(cached.totalMs))} vs ${fmt(p50(direct.totalMs))} ms ` +
      `= ${ratio(p50(cached.totalMs), p50(direct.totalMs))} — ${verdict(p50(cached.totalMs) <= p50(direct.totalMs))}`,
    `target warm connect p50 ≤ 0.1× direct (startup → ReadyForQuery): ${fmt(p50(warm.connectMs))} vs ${fmt(p50(direct.connectMs))} ms ` +
      `= ${ratio(p50(warm.connectMs), p50(direct.connectMs))} — ${verdict(p50(warm.connectMs) <= 0.1 * p50(direct.connectMs))}`,
    `target warm connect p99 ≤ direct p99: ${fmt(p99(warm.connectMs))} vs ${fmt(p99(direct.connectMs))} ms ` +
      `= ${ratio(p99(warm.connectMs), p99(direct.connectMs))} — ${verdict(p99(warm.connectMs) <= p99(direct.connectMs))}`,
    `target burst of ${BURST} with --warm ≤ 0.5× direct (bursts after the first): ${fmt(warmBurst)} vs ` +
      `${fmt(directBurst)} ms = ${ratio(warmBurst, directBurst)} — ${verdict(warmBurst <= 0.5 * directBurst)}; the first ` +
      `burst, which finds --warm spares: ${fmt(firstBurst(warm))} ms`,
    `target ${BULK_ROWS / 1000}k rows ≥ 0.98× direct's speed (proxy, cached): ${fmt(median(cached.bulkMs))} vs ` +
      `${fmt(median(direct.bulkMs))} ms = ${bulkSpeed.toFixed(2)}× direct's speed — ${verdict(bulkSpeed >= 0.98)}`,
    `target burst of ${BURST} ≤ 0.5× the drivers' IAM way with one API call in total (proxy, cold: a new user per burst): ` +
      `${fmt(coldBurst)} vs ${fmt(iamBurst)} ms = ${ratio(coldBurst, iamBurst)}, ${median(cold.burstApiCalls)} API call(s) — ` +
      `${verdict(coldBurst <= 0.5 * iamBurst && median(cold.burstApiCalls) <= 1)}`,
  ];
  // A figure not measured (--only bulk) has no verdict.
  lines.push(...targetLines.filter((l) => !l.includes('NaN')), '');
  for (const p of PATHS) {
    const f = get(p);
    lines.push(`distance_connect_p50_ms.${p}=${p50(f.connectMs).toFixed(1)}`, `distance_connect_p99_ms.${p}=${p99(f.connectMs).toFixed(1)}`,
      `distance_select1_p50_ms.${p}=${p50(f.totalMs).toFixed(1)}`, `distance_burst_ms.${p}=${laterBursts(f).toFixed(1)}`,
      `distance_first_burst_ms.${p}=${firstBurst(f).toFixed(1)}`);
    if (f.bulkMs.length > 0) lines.push(`distance_bulk_ms.${p}=${median(f.bulkMs).toFixed(1)}`);
  }
  return lines;
}

/** Whether netem can be set up in a network namespace of our own; otherwise why not. */
async function netemAvailable(): Promise<true | string> {
  const out = await execText('unshare', ['-n', 'sh', '-c',
    'ip link set lo up && tc qdisc add dev lo root netem delay 1ms 2>&1 && echo NETEM_OK; true']).catch((err: unknown) => String(err));
  if (out.includes('NETEM_OK')) return true;
  return `not available here: ${out.trim().split('\n').slice(-1)[0] ?? 'no output'}`;
}

function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
