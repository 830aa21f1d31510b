/**
 * The proxy's resident memory as a container limit sees it (VmRSS of the proxy's own process, the built
 * executable as users run it), idle and under load — the figures behind the memory requests in config/.
 *
 *   npm run build && node dist/scripts/measure-rss.js [sessions=200] [seconds=20]
 *
 * Against the PostgreSQL test bed and the control-plane emulator: RSS right after it listens; after one login;
 * the peak while `sessions` clients each run `select` in a loop for `seconds` (sampled every 100 ms); and once
 * they have all disconnected. Prints one JSON object (MB).
 */
import { readFileSync } from 'node:fs';
import pg from 'pg';
import { startProxyProcess } from './bench/proxy-process.js';
import { runScript } from './run-script.js';
import { startStack, TEST_CLUSTER, TEST_REGION } from '../test/support/stack.js';

const rssMb = (pid: number): number => {
  const kb = Number(/^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? Number.NaN);
  return Math.round((kb / 1024) * 10) / 10;
};

async function main(argv: string[]): Promise<number> {
  const sessions = Number(argv[0] ?? 200);
  const seconds = Number(argv[1] ?? 20);
  const stack = await startStack();
  const proxy = await startProxyProcess({ upstreamPort: stack.bed.port, caFile: stack.bed.caCertPath, clusterId: TEST_CLUSTER,
    region: TEST_REGION, awsEndpointUrl: stack.emulator.url });
  try {
    const config = (user: string): pg.ClientConfig => ({ host: '127.0.0.1', port: proxy.port, user, database: 'dev' });
    const listening = rssMb(proxy.pid);
    const first = new pg.Client(config('rss_0'));
    await first.connect();
    await first.query('select 1');
    await first.end();
    const afterLogin = rssMb(proxy.pid);
    // Ten database users, as a team's dashboards would be: ten credentials in the cache.
    const clients = Array.from({ length: sessions }, (_, i) => new pg.Client(config(`rss_${i % 10}`)));
    for (const c of clients) await c.connect();
    const heldIdle = rssMb(proxy.pid);
    let peak = heldIdle;
    const sampler = setInterval(() => {
      peak = Math.max(peak, rssMb(proxy.pid));
    }, 100);
    const until = Date.now() + seconds * 1000;
    let queries = 0;
    await Promise.all(clients.map(async (c) => {
      while (Date.now() < until) {
        await c.query('select g, repeat(\'x\', 100) from generate_series(1, 100) g');
        queries++;
      }
    }));
    clearInterval(sampler);
    peak = Math.max(peak, rssMb(proxy.pid));
    await Promise.all(clients.map((c) => c.end()));
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    const result = {
      node: process.version, sessions, seconds, queries,
      rssMb: { listening, afterOneLogin: afterLogin, [`${sessions}SessionsHeldIdle`]: heldIdle,
        [`peakWhile${sessions}SessionsQuery`]: peak, afterAllDisconnected: rssMb(proxy.pid) },
    };
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    return 0;
  } finally {
    await proxy.stop();
    await stack.stop();
  }
}

runScript('measure-rss', main);
