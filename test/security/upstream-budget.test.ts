/**
 * Finding 2 of issue 18, as the attack: spares were kept per distinct startup-parameter set with no overall cap,
 * and --max-connections did not count them. 100 clients with different application_name under --warm 4
 * --max-connections 10 left 409 idle backends on the server (597 at 250 clients, and the server refused new logins;
 * Redshift has about 500 slots for everyone). Now the pool keeps at most --warm-total spares per listener (least
 * recently used parameter set closed first), and every upstream connection — sessions, spares and logins in flight —
 * holds a slot of --max-upstream-connections, which the server's own pg_stat_activity must never see exceeded.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import type { RunningProxy } from '../../src/proxy/proxy.js';
import { refusal } from '../support/refusals.js';
import { startStack } from '../support/stack.js';
import type { Stack } from '../support/stack.js';

let stack: Stack;

beforeAll(async () => {
  stack = await startStack();
});

afterAll(async () => {
  await stack?.stop();
});

/** Backends of proxy-issued users (IAMA:…) the server has now: what a cluster's slot count sees. */
async function proxyBackends(prefix: string): Promise<number> {
  const r = await stack.bed.superuserQuery<{ n: string }>(
    'select count(*) as n from pg_stat_activity where usename like $1', [`IAMA:${prefix}%`]);
  return Number(r[0]?.n ?? 0);
}

/** Samples the server's backend count until stopped; resolves with the highest count seen. */
function watchBackends(prefix: string): { stop: () => Promise<number> } {
  let peak = 0;
  let running = true;
  const loop = (async () => {
    while (running) {
      peak = Math.max(peak, await proxyBackends(prefix));
      await new Promise((r) => setTimeout(r, 10));
    }
  })();
  return { stop: async () => {
    running = false;
    await loop;
    peak = Math.max(peak, await proxyBackends(prefix));
    return peak;
  } };
}

async function runClients(port: number, user: string, count: number, concurrency: number): Promise<string[]> {
  const errors: string[] = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) {
      const i = next++;
      const c = new pg.Client({ host: '127.0.0.1', port, user, database: 'dev', application_name: `dashboard-${i}` });
      try {
        await c.connect();
        await c.query('select 1');
        await c.end();
      } catch (err) {
        errors.push((err as Error).message);
        await c.end().catch(() => undefined);
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return errors;
}

describe('--warm spares under one upstream connection budget', () => {
  it('100 clients with different application_name under --warm 4 --max-connections 10: the server never sees more than the budget', async () => {
    const budget = 16;
    const proxy: RunningProxy = await stack.startProxy({}, { warm: 4, maxConnections: 10, maxUpstreamConnections: budget });
    const port = proxy.addresses[0]?.port as number;
    const watch = watchBackends('spread');
    const errors = await runClients(port, 'spread', 100, 10);
    // Let the background refills of the last clients land before counting what stays.
    await new Promise((r) => setTimeout(r, 500));
    const peak = await watch.stop();
    expect(errors).toEqual([]);
    expect(peak).toBeLessThanOrEqual(budget);
    expect(proxy.upstreamBudget.inUse).toBeLessThanOrEqual(budget);
    // What stays idle is the pool's total (4 x --warm by default), not 4 per application_name.
    expect(proxy.pools[0]?.size).toBeLessThanOrEqual(16);
    expect(await proxyBackends('spread')).toBeLessThanOrEqual(16);
    const metrics = await proxy.metrics.text();
    expect(metrics).toMatch(/redshift_auth_proxy_upstream_connections\{kind="limit"\} 16/);
    expect(metrics).toMatch(/redshift_auth_proxy_warm_pool_total\{listener="[^"]+",outcome="evicted"\} [1-9]/);
    console.log(`upstream budget: peak ${peak} backends (budget ${budget}), ${proxy.pools[0]?.size} spares kept, ` +
      `${proxy.pools[0]?.stats.evicted} evicted, ${proxy.upstreamBudget.evicted} for a session's slot`);
    await proxy.close();
  });

  it('a session takes a spare\'s slot when the budget is spent; with no spare to give up it gets 53300 and a hint', async () => {
    const proxy = await stack.startProxy({}, { warm: 2, maxUpstreamConnections: 3 });
    const port = proxy.addresses[0]?.port as number;
    const held = new pg.Client({ host: '127.0.0.1', port, user: 'tight', database: 'dev' });
    await held.connect();
    // The first login asked for two spares: with the session, the budget of 3 is spent.
    const until = Date.now() + 5_000;
    while (proxy.pools[0]?.size !== 2 && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
    expect(proxy.pools[0]?.size).toBe(2);
    expect(proxy.upstreamBudget.inUse).toBe(3);
    // Other parameters: no spare matches, so a spare is closed to give this session its slot.
    const second = new pg.Client({ host: '127.0.0.1', port, user: 'tight', database: 'dev', application_name: 'other' });
    await second.connect();
    const third = new pg.Client({ host: '127.0.0.1', port, user: 'tight', database: 'dev', application_name: 'third' });
    await third.connect();
    expect(proxy.upstreamBudget.evicted).toBe(2);
    // Three sessions hold the three slots and no spare is left: refused, saying which limit and what to do.
    const r = await refusal(port, 'tight');
    expect(r).toMatchObject({ code: '53300', severity: 'FATAL' });
    expect(r.message).toMatch(/--max-upstream-connections/);
    expect(r.hint).toMatch(/raise --max-upstream-connections/);
    expect(await proxyBackends('tight')).toBeLessThanOrEqual(3);
    await Promise.all([held.end(), second.end(), third.end()]);
    await proxy.close();
  });

  it('a spare sits unused no longer than --warm-idle', async () => {
    const proxy = await stack.startProxy({}, { warm: 1, warmIdleMs: 300 });
    const port = proxy.addresses[0]?.port as number;
    const c = new pg.Client({ host: '127.0.0.1', port, user: 'idler', database: 'dev' });
    await c.connect();
    await c.end();
    const until = Date.now() + 5_000;
    while ((proxy.pools[0]?.size ?? 0) === 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
    expect(proxy.pools[0]?.size).toBeGreaterThan(0);
    while ((proxy.pools[0]?.size ?? 0) > 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
    expect(proxy.pools[0]?.size).toBe(0);
    await proxy.close();
  });
});
