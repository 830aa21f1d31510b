/**
 * --warm: new clients get a pre-opened, logged-in upstream connection with their own startup parameters applied,
 * as if they had logged in fresh.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { startStack } from '../support/stack.js';
import type { Stack } from '../support/stack.js';
import type { RunningProxy } from '../../src/proxy/proxy.js';

let stack: Stack;
let port: number;
let warmProxy: RunningProxy;

beforeAll(async () => {
  stack = await startStack();
  const p = await stack.startProxy({}, { warm: 2 });
  warmProxy = p;
  port = p.addresses[0]?.port as number;
});

afterAll(async () => {
  await stack?.stop();
});

async function session(user: string, extra: Record<string, unknown> = {}): Promise<{ row: Record<string, unknown>; params: Record<string, string> }> {
  const c = new pg.Client({ host: '127.0.0.1', port, user, database: 'dev', ...extra });
  const params: Record<string, string> = {};
  (c as unknown as { connection: { on(e: string, f: (m: { parameterName: string; parameterValue: string }) => void): void } })
    .connection.on('parameterStatus', (m) => {
      params[m.parameterName] = m.parameterValue;
    });
  await c.connect();
  try {
    const row = (await c.query(`select current_user as u, pg_backend_pid() as pid, current_setting('application_name') as app,
      current_setting('DateStyle') as ds, current_setting('search_path') as sp, backend_start as started
      from pg_stat_activity where pid = pg_backend_pid()`)).rows[0];
    return { row, params };
  } finally {
    await c.end();
  }
}

describe('--warm', () => {
  it('hands a pre-opened connection to the next client, logged in with the same startup parameters, reported as at a fresh login', async () => {
    const settings = { application_name: 'dash-warm', options: '-c search_path=pg_catalog -c DateStyle=SQL,DMY' };
    await session('warmuser', settings); // cold: fills the pool for this identity and these parameters
    const deadline = Date.now() + 5_000;
    let warmed: Awaited<ReturnType<typeof session>> | undefined;
    while (Date.now() < deadline) {
      const s = await session('warmuser', settings);
      if (Date.now() - new Date(s.row.started as string).getTime() > 150) {
        warmed = s;
        break;
      }
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(warmed, 'a backend older than the client connection (a spare) was used').toBeDefined();
    expect(warmed?.row).toMatchObject({ u: 'IAMA:warmuser', app: 'dash-warm', ds: 'SQL, DMY', sp: 'pg_catalog' });
    expect(warmed?.params.application_name).toBe('dash-warm');
    expect(warmed?.params.DateStyle).toBe('SQL, DMY');
    expect(warmed?.params.server_version).toMatch(/^\d+/);
  });
});

type Query = (sql: string, values?: unknown[], name?: string) => Promise<Record<string, unknown>[]>;

/** One client session with these settings; returns its backend pid and ParameterStatus values. */
async function visit(user: string, extra: Record<string, unknown>, work?: (q: Query) => Promise<void>,
  leave: 'end' | 'drop' = 'end'): Promise<{ pid: number; params: Record<string, string> }> {
  const c = new pg.Client({ host: '127.0.0.1', port, user, database: 'dev', ...extra });
  const params: Record<string, string> = {};
  (c as unknown as { connection: { on(e: string, f: (m: { parameterName: string; parameterValue: string }) => void): void } })
    .connection.on('parameterStatus', (m) => {
      params[m.parameterName] = m.parameterValue;
    });
  await c.connect();
  const q: Query = async (sql, values, name) => (await c.query({ text: sql, ...(values ? { values } : {}), ...(name ? { name } : {}) })).rows;
  const pid = Number((await q('select pg_backend_pid() as pid'))[0]?.pid);
  if (work) await work(q);
  if (leave === 'end') await c.end();
  else {
    c.on('error', () => undefined); // the client library reports the connection it was made to drop
    (c as unknown as { connection: { stream: { destroy(): void } } }).connection.stream.destroy();
  }
  return { pid, params };
}

describe('--warm: connections of clients that leave are reused', () => {
  const settings = { application_name: 'reuse', options: '-c DateStyle=SQL,DMY' };

  it('hands a cleanly closed connection to the next client, reset to its login state', async () => {
    for (let i = 0; i < 3; i++) await visit('reuser', settings); // the pool holds spares for these settings
    const first = await visit('reuser', settings, async (q) => {
      await q('SET DateStyle = ISO, MDY');
      await q("select set_config('search_path', 'pg_catalog', false)");
      await q('PREPARE sql_prep AS select 1');
      await q('select $1::int as n', [1], 'proto_prep');
    });
    const pids = new Set<number>([first.pid]);
    let reusedFirst = false;
    for (let i = 0; i < 12; i++) {
      const v = await visit('reuser', settings, async (q) => {
        const row = (await q(`select current_setting('DateStyle') as ds, current_setting('search_path') as sp,
          (select count(*) from pg_prepared_statements)::int as prepared`))[0];
        expect(row).toEqual({ ds: 'SQL, DMY', sp: '"$user", public', prepared: 0 });
      });
      expect(v.params.DateStyle).toBe('SQL, DMY');
      if (v.pid === first.pid) reusedFirst = true;
      pids.add(v.pid);
    }
    expect(reusedFirst, 'the first client\'s connection served a later client').toBe(true);
    // Without reuse every visit would take a fresh spare (13 backends); with it the pool's few serve them all.
    expect(pids.size).toBeLessThanOrEqual(3);
    const metrics = await warmProxy.metrics.text();
    const count = (outcome: string): number => Number(new RegExp(`warm_pool_total\\{[^}]*outcome="${outcome}"[^}]*\\} (\\d+)`).exec(metrics)?.[1]);
    expect(count('reused')).toBeGreaterThanOrEqual(12);
    expect(count('hits')).toBeGreaterThanOrEqual(12);
  });

  it('never reuses a connection left inside a transaction, dropped without goodbye, or holding a temporary table', async () => {
    const other = { application_name: 'noreuse', options: '-c DateStyle=SQL,DMY' };
    const inTx = await visit('reuser', other, async (q) => {
      await q('BEGIN');
      await q('select 1');
    });
    const dropped = await visit('reuser', other, undefined, 'drop');
    const temp = await visit('reuser', other, async (q) => {
      await q('CREATE TEMP TABLE reuse_tmp (x int)');
    });
    const seen = new Set<number>();
    for (let i = 0; i < 8; i++) seen.add((await visit('reuser', other)).pid);
    expect(seen.has(inTx.pid)).toBe(false);
    expect(seen.has(dropped.pid)).toBe(false);
    expect(seen.has(temp.pid)).toBe(false);
  });
});

describe('--warm: issue 18 finding 6, the reuse guard cannot be bypassed', () => {
  const guarded = { application_name: 'guard', options: '-c DateStyle=SQL,DMY' };

  beforeAll(async () => {
    await stack.bed.superuserQuery('create role r1');
    await visit('guard', guarded); // the database user exists once it logged in
    await stack.bed.superuserQuery('grant r1 to "IAMA:guard"');
  });

  const bypasses: Array<[string, string]> = [
    ['a SET ROLE after another statement', 'select 1; SET ROLE r1'],
    ['a SET ROLE after a comment', '/* x */ SET ROLE r1'],
    ['set_config of the role', "select set_config('role','r1',false)"],
    ['a LISTEN after another statement', 'select 1; LISTEN secretchan'],
  ];
  for (const [n, [what, sql]] of bypasses.entries()) {
    it(`${what}: the next client never gets that connection`, async () => {
      // As in the reuse test above (which shows such a connection would be handed on): settings of its own, spares.
      const own = { application_name: `guard-${n}`, options: '-c DateStyle=SQL,DMY' };
      for (let i = 0; i < 3; i++) await visit('guard', own);
      const attacker = await visit('guard', own, async (q) => {
        await q(sql);
      });
      for (let i = 0; i < 12; i++) {
        const v = await visit('guard', own, async (q) => {
          const row = (await q(`select current_user as u, (select count(*) from pg_listening_channels())::int as channels`))[0];
          expect(row).toEqual({ u: 'IAMA:guard', channels: 0 });
        });
        expect(v.pid).not.toBe(attacker.pid);
      }
    });
  }

  it('a connection whose settings a reset undoes serves the next client reset (set_config included)', async () => {
    const own = { application_name: 'guard-reset', options: '-c DateStyle=SQL,DMY' };
    for (let i = 0; i < 3; i++) await visit('guard', own); // the pool holds spares for these settings
    const first = await visit('guard', own, async (q) => {
      await q("select set_config('search_path', 'pg_catalog', false)");
      await q('SET statement_timeout = 1234');
    });
    let reused = false;
    for (let i = 0; i < 12; i++) {
      const v = await visit('guard', own, async (q) => {
        const row = (await q(`select current_setting('search_path') as sp, current_setting('statement_timeout') as st,
          current_user as u`))[0];
        expect(row).toEqual({ sp: '"$user", public', st: '0', u: 'IAMA:guard' });
      });
      reused ||= v.pid === first.pid;
    }
    expect(reused, 'a connection whose settings a reset undoes is reused').toBe(true);
  });
});

describe('--warm: a burst of clients finds as many spares the next time', () => {
  const burst = { application_name: 'burst', options: '-c DateStyle=SQL,DMY' };
  const N = 6; // more than --warm 2, within the default --warm-total (4 × 2)

  /** N clients connect at once, each answers a query, then all leave cleanly; returns their backend pids. */
  async function dashboard(): Promise<Set<number>> {
    const visits = await Promise.all(Array.from({ length: N }, () => visit('burster', burst)));
    return new Set(visits.map((v) => v.pid));
  }

  it('keeps the connections a burst gave back (not just --warm), so the next burst is served from spares', async () => {
    const stats = warmProxy.pools[0]?.stats;
    if (!stats) throw new Error('the proxy has no warm pool');
    const given = (): number => stats.reused + stats.discarded;
    const givenBefore = given();
    const first = await dashboard();
    expect(first.size).toBe(N);
    // Each connection comes back after a reset (a round trip): wait until all N were kept or closed, counted not timed.
    const deadline = Date.now() + 5_000;
    while (given() - givenBefore < N && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(given() - givenBefore).toBeGreaterThanOrEqual(N);
    const hitsBefore = stats.hits;
    const second = await dashboard();
    expect(stats.hits - hitsBefore, 'every client of the second burst found a spare').toBe(N);
    expect([...second].filter((pid) => first.has(pid)).length, 'the second burst ran on the first burst\'s connections')
      .toBeGreaterThanOrEqual(N - 2);
  });
});
