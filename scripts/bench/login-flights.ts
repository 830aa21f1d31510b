/**
 * `node dist/scripts/bench/login-flights.js [--logins 150] [--rounds 3]`: where a login's time goes, flight by flight.
 * A recording TCP forwarder sits in front of the test-bed PostgreSQL; libpq-style direct logins (the bench's raw
 * wire client doing SSLRequest, TLS and md5 itself) and logins through the proxy (built in dist/) both pass through
 * it. For each login it keeps the time and size of every chunk each way, merges consecutive chunks of one direction
 * into a flight, and prints per path the median gap before each flight: a gap before a client flight is the
 * client's (or the proxy's) thinking time, before a server flight the server's.
 *
 * This is how the HelloRetryRequest of every login was found (an extra `s99 c406` pair of flights: the server
 * asking for another key share). Exit codes: 0 done, 1 failed, 2 bad usage.
 */
import { spawn } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { createPgDataPlane, startEmulator } from '../../src/emulator/index.js';
import { startTestBed } from '../../test/support/pg-server.js';
import { TEST_CLUSTER, TEST_REGION, testPrincipal, useTestAwsEnvironment } from '../../test/support/stack.js';
import { stopChild } from './pgbouncer.js';
import { connectLatencies, percentile } from './workloads.js';
import type { BenchPath } from './workloads.js';
import { runScript } from '../run-script.js';

const DATABASE = 'dev';
const ROLE = 'flights';
const PASSWORD = 'flights-static-password';

type Chunk = readonly ['client' | 'server', number, number];
interface Flight { readonly from: 'c' | 's'; readonly start: number; end: number; bytes: number }

/** Forwards every connection to `port`, recording each chunk's direction, time and size per connection. */
async function recordingForwarder(port: number): Promise<{ port: number; logins: Chunk[][]; close: () => void }> {
  const logins: Chunk[][] = [];
  const open = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const chunks: Chunk[] = [];
    logins.push(chunks);
    const upstream = net.connect(port, '127.0.0.1');
    for (const s of [client, upstream]) {
      s.setNoDelay(true);
      open.add(s);
      s.once('close', () => open.delete(s));
    }
    client.on('data', (d: Buffer) => {
      chunks.push(['client', performance.now(), d.length]);
      upstream.write(d);
    });
    upstream.on('data', (d: Buffer) => {
      chunks.push(['server', performance.now(), d.length]);
      client.write(d);
    });
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
    client.on('error', () => undefined);
    upstream.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    logins,
    close: () => {
      for (const s of open) s.destroy();
      server.close();
    },
  };
}

function flightsOf(chunks: readonly Chunk[]): Flight[] {
  const flights: Flight[] = [];
  for (const [dir, t, n] of chunks) {
    const from = dir === 'client' ? 'c' : 's';
    const last = flights.at(-1);
    if (last && last.from === from) {
      last.end = t;
      last.bytes += n;
    } else {
      flights.push({ from, start: t, end: t, bytes: n });
    }
  }
  return flights;
}

/** One line per path: the flights of a typical login, and the median gap before each. */
function describe(name: string, latencies: readonly number[], logins: readonly Chunk[][]): string {
  const all = logins.map(flightsOf);
  const shape = all[Math.floor(all.length / 2)] ?? [];
  const same = all.filter((f) => f.length === shape.length);
  const gaps = shape.slice(1).map((f, i) => {
    const g = same.map((fl) => (fl[i + 1] as Flight).start - (fl[i] as Flight).end);
    return `${f.from}${f.bytes}:${percentile(g, 0.5).toFixed(2)}`;
  });
  const think = (side: 'c' | 's'): number => percentile(same.map((fl) =>
    fl.slice(1).reduce((sum, f, i) => sum + (f.from === side ? f.start - (fl[i] as Flight).end : 0), 0)), 0.5);
  return `${name.padEnd(7)} login p50 ${percentile(latencies, 0.5).toFixed(2)} ms; client side ${think('c').toFixed(2)} ms, ` +
    `server side ${think('s').toFixed(2)} ms over ${shape.length} flights (${same.length}/${all.length} logins alike)\n` +
    `        gap before each flight (direction, bytes: ms): ${shapeStart(shape)} ${gaps.join(' ')}`;
}

const shapeStart = (shape: readonly Flight[]): string => (shape[0] ? `${shape[0].from}${shape[0].bytes}` : '');

async function main(argv: string[]): Promise<number> {
  let flags;
  try {
    flags = parseArgs({ args: argv, strict: true, options: {
      logins: { type: 'string', default: '150' }, rounds: { type: 'string', default: '3' } } }).values;
  } catch (err) {
    process.stderr.write(`login-flights: ${(err as Error).message}\n`);
    return 2;
  }
  const logins = Number(flags.logins);
  const rounds = Number(flags.rounds);
  if (!(Number.isInteger(logins) && logins > 10 && Number.isInteger(rounds) && rounds > 0)) {
    process.stderr.write('login-flights: --logins takes an integer above 10, --rounds a positive integer\n');
    return 2;
  }
  useTestAwsEnvironment();
  const stops: Array<() => Promise<void> | void> = [];
  try {
    const bed = await startTestBed();
    stops.push(() => bed.stop());
    await bed.createLoginRole(ROLE, PASSWORD);
    const emulator = await startEmulator({
      principals: [testPrincipal],
      clusters: [{ id: TEST_CLUSTER, endpoint: { address: 'localhost', port: bed.port }, region: TEST_REGION }],
      dataPlane: createPgDataPlane((sql, params) => bed.superuserQuery(sql, params), { database: DATABASE }),
    });
    stops.push(() => emulator.close());
    const forwarder = await recordingForwarder(bed.port);
    stops.push(() => forwarder.close());
    const child = spawn(process.execPath, [path.resolve('dist/src/bin.js'), '--listen', '127.0.0.1:0',
      '--upstream', `localhost:${forwarder.port}`, '--cluster-id', TEST_CLUSTER, '--region', TEST_REGION,
      '--aws-endpoint-url', emulator.url, '--ca-file', bed.caCertPath, '--auto-create'], { stdio: ['ignore', 'ignore', 'pipe'] });
    stops.push(() => stopChild(child, 'SIGTERM'));
    const proxyPort = await new Promise<number>((resolve, reject) => {
      let tail = '';
      child.stderr?.on('data', (d: Buffer) => {
        tail = (tail + d.toString()).slice(-10_000);
        const m = /"port":(\d+)[^\n]*"msg":"listening"/.exec(tail);
        if (m) resolve(Number(m[1]));
      });
      child.once('exit', (code) => reject(new Error(`the proxy exited ${code}:\n${tail}`)));
    });
    const direct: BenchPath = { name: 'direct', conninfo: '', env: {}, wire: { host: '127.0.0.1', port: forwarder.port,
      user: ROLE, database: DATABASE, password: PASSWORD, tls: { ca: bed.caPem, servername: 'localhost' } } };
    const proxy: BenchPath = { name: 'proxy', conninfo: '', env: {}, wire: { host: '127.0.0.1', port: proxyPort, user: ROLE, database: DATABASE } };
    // The proxy's first login fetches its credential: not a typical login.
    await connectLatencies(proxy, 3);
    for (let round = 0; round < rounds; round++) {
      for (const p of round % 2 === 0 ? [direct, proxy] : [proxy, direct]) {
        forwarder.logins.length = 0;
        const ms = await connectLatencies(p, logins);
        await new Promise((r) => setTimeout(r, 300));
        // The first logins of a batch warm up; the close of the last may still be in flight.
        process.stdout.write(`${describe(p.name, ms, forwarder.logins.slice(5, -1))}\n`);
      }
    }
    return 0;
  } finally {
    for (const s of stops.reverse()) await s();
  }
}

runScript('login-flights', main);
