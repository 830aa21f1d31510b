/**
 * Sessions that never break: an idle session whose upstream connection ends is healed onto a new one with its
 * settings and prepared statements; a lost transaction fails cleanly and heals after ROLLBACK; state that cannot
 * be rebuilt gives a clear FATAL error instead of a silent heal.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type pg from 'pg';
import { pgClient } from '../support/clients.js';
import { startStack } from '../support/stack.js';
import type { Stack } from '../support/stack.js';
import { TcpForwarder } from '../support/tcp-forwarder.js';

let stack: Stack;

beforeAll(async () => {
  stack = await startStack();
  await stack.bed.superuserQuery('create schema if not exists healing');
  await stack.bed.superuserQuery('create table healing.marker(v text)');
  await stack.bed.superuserQuery("insert into healing.marker values ('found via search_path')");
  await stack.bed.superuserQuery('grant usage on schema healing to public');
  await stack.bed.superuserQuery('grant select on healing.marker to public');
});

afterAll(async () => {
  await stack?.stop();
});

async function backendPid(c: pg.Client): Promise<number> {
  return (await c.query('select pg_backend_pid() as pid')).rows[0].pid as number;
}

/** Resolves once the proxy has logged `count` heals in total. */
async function healsLogged(count: number): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (stack.logs.lines.filter((l) => l.includes('session healed')).length < count) {
    if (Date.now() > deadline) throw new Error(`expected ${count} heals; log:\n${stack.logs.text.slice(-2000)}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function healCount(): number {
  return stack.logs.lines.filter((l) => l.includes('session healed')).length;
}

describe('healing idle sessions', () => {
  it('after pg_terminate_backend the next query works, with settings and prepared statements in effect', async () => {
    const c = pgClient(stack.port, 'healer');
    const errors: unknown[] = [];
    c.on('error', (e) => errors.push(e));
    await c.connect();
    try {
      await c.query('set search_path to healing, public');
      await c.query("set application_name = 'healed-app'");
      expect((await c.query({ name: 'doubler', text: 'select $1::int * 2 as x', values: [21] })).rows[0].x).toBe(42);
      const before = await backendPid(c);
      const heals = healCount();
      await stack.bed.superuserQuery('select pg_terminate_backend($1)', [before]);
      await healsLogged(heals + 1);
      const r = await c.query("select v, current_setting('application_name') as app from marker");
      expect(r.rows[0]).toEqual({ v: 'found via search_path', app: 'healed-app' });
      // node-postgres believes "doubler" is prepared and sends only Bind/Execute: the proxy re-prepared it.
      expect((await c.query({ name: 'doubler', text: 'select $1::int * 2 as x', values: [50] })).rows[0].x).toBe(100);
      expect(await backendPid(c)).not.toBe(before);
      expect(errors).toEqual([]);
    } finally {
      await c.end();
    }
  });

  it('idle clients continue after the whole server restarts', async () => {
    const clients = await Promise.all(['r1', 'r2', 'r3'].map(async (u) => {
      const c = pgClient(stack.port, u);
      c.on('error', () => undefined);
      await c.connect();
      await c.query('select 1');
      return c;
    }));
    const heals = healCount();
    await stack.bed.restart('fast');
    await healsLogged(heals + 3);
    for (const c of clients) {
      expect((await c.query('select current_user as u')).rows[0].u).toMatch(/^IAMA:r\d$/);
      await c.end();
    }
  });

  it('termination mid-transaction: an error, then ROLLBACK, then success on the same connection', async () => {
    const c = pgClient(stack.port, 'txer');
    c.on('error', () => undefined);
    await c.connect();
    try {
      await c.query('begin');
      await c.query('select 1');
      const pid = await backendPid(c);
      await stack.bed.superuserQuery('select pg_terminate_backend($1)', [pid]);
      await stack.bed.waitForLog(new RegExp(`\\[${pid}\\].*disconnection`), 5_000).catch(() => undefined);
      await new Promise((r) => setTimeout(r, 400));
      await expect(c.query('select 2')).rejects.toMatchObject({ code: '08006' });
      await expect(c.query('select 3')).rejects.toMatchObject({ code: '25P02' });
      await c.query('rollback');
      expect((await c.query('select 4 as four')).rows[0].four).toBe(4);
    } finally {
      await c.end();
    }
  });

  it('a connection cut mid-query gives 08006 and the next statement works', async () => {
    const forwarder = new TcpForwarder('127.0.0.1', stack.bed.port);
    const fport = await forwarder.listen();
    try {
      const p = await stack.startProxy({ upstreamHost: 'localhost', upstreamPort: fport });
      const c = pgClient(p.addresses[0]?.port as number, 'cutter');
      c.on('error', () => undefined);
      await c.connect();
      const running = c.query('select pg_sleep(5)');
      await new Promise((r) => setTimeout(r, 300));
      forwarder.cutAll();
      await expect(running).rejects.toMatchObject({ code: '08006' });
      expect((await c.query('select 5 as five')).rows[0].five).toBe(5);
      await c.end();
    } finally {
      await forwarder.close();
    }
  });

  it('a temporary table means a clear FATAL error, not a silent heal', async () => {
    const c = pgClient(stack.port, 'temper');
    const errors: Array<{ code?: string; detail?: string }> = [];
    c.on('error', (e) => errors.push(e as { code?: string; detail?: string }));
    await c.connect();
    await c.query('create temp table scratch(x int)');
    const heals = healCount();
    await stack.bed.superuserQuery('select pg_terminate_backend($1)', [await backendPid(c)]);
    const deadline = Date.now() + 5_000;
    while (errors.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(errors[0]).toMatchObject({ code: '08006' });
    expect(errors[0]?.detail).toMatch(/temporary table/);
    await expect(c.query('select 1')).rejects.toBeTruthy();
    expect(healCount()).toBe(heals);
    await c.end().catch(() => undefined);
  });
});

describe('--idle-release', () => {
  it('50 idle clients give their upstream connections back and each next query works', async () => {
    const p = await stack.startProxy({}, { idleReleaseMs: 1_000 });
    const port = p.addresses[0]?.port as number;
    const clients = await Promise.all(Array.from({ length: 50 }, async (_, i) => {
      const c = pgClient(port, 'idler');
      c.on('error', () => undefined);
      await c.connect();
      await c.query(`set application_name = 'idler-${i}'`);
      return c;
    }));
    const backends = async (): Promise<number> => Number((await stack.bed.superuserQuery(
      "select count(*) as n from pg_stat_activity where usename = 'IAMA:idler'"))[0]?.n);
    const deadline = Date.now() + 10_000;
    while ((await backends()) > 0) {
      if (Date.now() > deadline) throw new Error(`still ${await backends()} upstream backends`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const apps = await Promise.all(clients.map(async (c) =>
      (await c.query("select current_setting('application_name') as app")).rows[0].app as string));
    expect(apps).toEqual(clients.map((_, i) => `idler-${i}`));
    // Reopened on demand (and released again a second later).
    expect(await backends()).toBeGreaterThan(0);
    await Promise.all(clients.map((c) => c.end()));
  });
});

describe('--no-heal', () => {
  it('ends the session instead of healing it', async () => {
    const p = await stack.startProxy({}, { heal: false });
    const c = pgClient(p.addresses[0]?.port as number, 'noheal');
    const errors: Array<{ code?: string }> = [];
    c.on('error', (e) => errors.push(e as { code?: string }));
    await c.connect();
    const heals = healCount();
    await stack.bed.superuserQuery('select pg_terminate_backend($1)', [await backendPid(c)]);
    const deadline = Date.now() + 5_000;
    while (errors.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(errors.map((e) => e.code)).toContain('57P01');
    await expect(c.query('select 1')).rejects.toBeTruthy();
    expect(healCount()).toBe(heals);
    await c.end().catch(() => undefined);
  });
});
