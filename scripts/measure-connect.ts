/**
 * Connect latency through the proxy with a warm credential cache, against a direct verified-TLS connection with a
 * static password to the same server — the measure "a warm cache is not slower than a static password".
 *
 *   npm run build && node dist/scripts/measure-connect.js [connects-per-side=100]
 *
 * Both sides log in with md5 to the PostgreSQL test bed over TLS; the proxy side also crosses the loopback hop to
 * the proxy, which answers from its cache (no AWS call after the first). The two sides alternate connect by
 * connect, so machine noise falls on both alike. Times are from `connect()` to ReadyForQuery, in milliseconds.
 */
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { md5Verifier } from '../src/emulator/index.js';
import { directTlsConnectionConfig } from '../test/support/pg-server.js';
import { startStack } from '../test/support/stack.js';

const DIRECT_USER = 'direct_static';
const DIRECT_PASSWORD = 'static-password-for-measurement';

async function timedConnect(config: pg.ClientConfig): Promise<number> {
  const client = new pg.Client(config);
  const started = performance.now();
  await client.connect();
  const ms = performance.now() - started;
  await client.end();
  return ms;
}

function summary(samples: readonly number[]): Record<string, number> {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
  const round = (x: number): number => Math.round(x * 100) / 100;
  return { n: sorted.length, median: round(at(0.5)), p90: round(at(0.9)), min: round(sorted[0] ?? Number.NaN),
    mean: round(sorted.reduce((a, b) => a + b, 0) / sorted.length) };
}

async function main(): Promise<void> {
  const rounds = Number(process.argv[2] ?? 100);
  const stack = await startStack();
  try {
    // The same password storage as the issued credentials: an md5 verifier, so both sides do md5 (not SCRAM).
    await stack.bed.createLoginRole(DIRECT_USER, md5Verifier(DIRECT_PASSWORD, DIRECT_USER));
    const direct = directTlsConnectionConfig(stack.bed, DIRECT_USER, DIRECT_PASSWORD);
    const proxied: pg.ClientConfig = { host: '127.0.0.1', port: stack.port, user: 'measure', database: 'dev' };
    // Warm up both paths (and the cache: one API call).
    for (let i = 0; i < 5; i++) {
      await timedConnect(proxied);
      await timedConnect(direct);
    }
    stack.emulator.resetCounters();
    const viaProxy: number[] = [];
    const viaDirect: number[] = [];
    for (let i = 0; i < rounds; i++) {
      viaProxy.push(await timedConnect(proxied));
      viaDirect.push(await timedConnect(direct));
    }
    const result = {
      proxyWarmCache: summary(viaProxy),
      directTlsStaticPassword: summary(viaDirect),
      apiCallsDuringMeasurement: stack.emulator.calls.GetClusterCredentials,
    };
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  } finally {
    await stack.stop();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`measure-connect: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
  process.exitCode = 1;
});
