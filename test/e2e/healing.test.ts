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
import { RawConnection } from '../security/raw-connection.js';
import { startupMessage, typed } from '../security/wire.js';

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

/** What node-postgres says of a query on a connection the server ended (after the FATAL it already reported). */
const NOT_QUERYABLE = /^Client has encountered a connection error and is not queryable$/;

/** Terminates the client's backend and resolves once the proxy logged the heal that followed. */
async function terminateAndHeal(c: pg.Client): Promise<void> {
  const heals = healCount();
  await stack.bed.superuserQuery('select pg_terminate_backend($1)', [await backendPid(c)]);
  await healsLogged(heals + 1);
}

const DEFAULTS = { sp: '"$user", public', st: '0' };
const settings = async (c: pg.Client): Promise<{ sp: string; st: string }> => (await c.query(
  "select current_setting('search_path') as sp, current_setting('statement_timeout') as st")).rows[0] as { sp: string; st: string };

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
    await expect(c.query('select 1')).rejects.toThrow(NOT_QUERYABLE);
    expect(healCount()).toBe(heals);
    await c.end().catch(() => undefined);
  });
});

describe('issue 18: only what the server confirmed is replayed', () => {
  it('finding 1: SET inside a string literal stays data after a heal', async () => {
    const c = pgClient(stack.port, 'robert');
    c.on('error', () => undefined);
    await c.connect();
    try {
      await c.query("select 'Robert; SET search_path = evil, public; SET statement_timeout = 1; x' as name");
      await terminateAndHeal(c);
      expect(await settings(c)).toEqual(DEFAULTS);
    } finally {
      await c.end();
    }
  });

  it('finding 1: with --idle-release, a literal in a query and an idle second are not enough either', async () => {
    const p = await stack.startProxy({}, { idleReleaseMs: 500 });
    const c = pgClient(p.addresses[0]?.port as number, 'robert');
    c.on('error', () => undefined);
    await c.connect();
    try {
      const before = await backendPid(c);
      await c.query("select 1 from healing.marker where v = 'x; SET search_path = evil, public; SET statement_timeout = 1'");
      const deadline = Date.now() + 10_000;
      while ((await stack.bed.superuserQuery('select count(*)::int as n from pg_stat_activity where pid = $1', [before]))[0]?.n !== 0) {
        if (Date.now() > deadline) throw new Error('the idle session did not release its upstream connection');
        await new Promise((r) => setTimeout(r, 50));
      }
      expect(await settings(c)).toEqual(DEFAULTS);
    } finally {
      await c.end();
    }
  });

  it('finding 1: a SET rolled back (explicitly, to a savepoint, or by an error) does not come back', async () => {
    const c = pgClient(stack.port, 'roller');
    c.on('error', () => undefined);
    await c.connect();
    try {
      await c.query('begin');
      await c.query('set search_path = healing');
      await c.query('rollback');
      await c.query('begin; savepoint s; set statement_timeout = 7; rollback to savepoint s; commit');
      await c.query('set search_path = healing; select 1/0').catch(() => undefined);
      expect(await settings(c)).toEqual(DEFAULTS);
      await c.query("set statement_timeout = '5s'");
      await terminateAndHeal(c);
      expect(await settings(c)).toEqual({ ...DEFAULTS, st: '5s' });
    } finally {
      await c.end();
    }
  });

  it('set_config() makes the session non-healable: 08006 with a detail saying why, never a silent loss', async () => {
    const c = pgClient(stack.port, 'configurer');
    const errors: Array<{ code?: string; detail?: string }> = [];
    c.on('error', (e) => errors.push(e as { code?: string; detail?: string }));
    await c.connect();
    await c.query("select set_config('search_path', 'healing', false)");
    const heals = healCount();
    await stack.bed.superuserQuery('select pg_terminate_backend($1)', [await backendPid(c)]);
    const deadline = Date.now() + 5_000;
    while (errors.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(errors[0]).toMatchObject({ code: '08006' });
    expect(errors[0]?.detail).toMatch(/set_config\(\)/);
    await expect(c.query('select 1')).rejects.toThrow(NOT_QUERYABLE);
    expect(healCount()).toBe(heals);
    await c.end().catch(() => undefined);
  });
});

describe('issue 18 finding 5: protocol errors end the session, they do not heal it', () => {
  async function login(user: string): Promise<RawConnection> {
    const raw = await RawConnection.open(stack.port);
    raw.write(startupMessage([['user', user], ['database', 'dev']]));
    const READY = Buffer.from('Z\0\0\0\x05I', 'latin1');
    expect(await raw.waitFor((d) => d.includes(READY), 10_000)).toBe(true);
    return raw;
  }

  it('2,175 invalid 5-byte messages: the server\'s 08P01 reaches the client, the connection closes, no login follows', async () => {
    const heals = healCount();
    const raw = await login('garbler');
    const before = raw.bytesReceived;
    raw.write(Buffer.concat(Array.from({ length: 2_175 }, () => typed(0, Buffer.alloc(0)))));
    expect(await raw.waitClose(10_000)).toBe(true);
    const answer = raw.data.subarray(before);
    expect(answer[0]).toBe(0x45);
    expect(answer.toString('latin1')).toContain('C08P01');
    expect(answer.toString('latin1')).toContain('SFATAL');
    expect(healCount()).toBe(heals);
  });

  it('a Query announced as 1 GB: the session ends with an error, it is not healed again and again', async () => {
    const heals = healCount();
    const raw = await login('bigq');
    const before = raw.bytesReceived;
    const header = Buffer.alloc(5);
    header[0] = 0x51;
    header.writeInt32BE(1024 * 1024 * 1024 + 4, 1);
    raw.write(header);
    for (let i = 0; i < 16 && !raw.closed; i++) raw.write(Buffer.alloc(64 * 1024, 0x78));
    expect(await raw.waitClose(10_000)).toBe(true);
    const answer = raw.data.subarray(before);
    expect(answer[0]).toBe(0x45);
    expect(answer.toString('latin1')).toMatch(/C08(?:006|P01)/);
    expect(healCount()).toBe(heals);
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
    await expect(c.query('select 1')).rejects.toThrow(NOT_QUERYABLE);
    expect(healCount()).toBe(heals);
    await c.end().catch(() => undefined);
  });
});
