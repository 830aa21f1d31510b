/**
 * The core promise, end to end with real clients: no password at the proxy, a session as the IAM database user
 * over verified TLS, and the protocol behaving as it does on a direct connection.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import net from 'node:net';
import pg from 'pg';
import { pgClient, psql, withClient } from '../support/clients.js';
import { startStack } from '../support/stack.js';
import type { Stack } from '../support/stack.js';

let stack: Stack;

beforeAll(async () => {
  stack = await startStack();
  // An existing database user, so the plain GetClusterCredentials (no auto-create) path gives "IAM:analyst".
  await stack.bed.superuserQuery('CREATE ROLE "IAM:analyst" LOGIN');
  await stack.bed.superuserQuery('GRANT CONNECT ON DATABASE dev TO "IAM:analyst"');
  await stack.bed.superuserQuery('GRANT USAGE, CREATE ON SCHEMA public TO "IAM:analyst"');
});

afterAll(async () => {
  await stack?.stop();
});

describe('login', () => {
  it('node-postgres logs in with no password and runs as the IAM user over TLS', async () => {
    const p = await stack.startProxy({ autoCreate: false });
    const port = p.addresses[0]?.port as number;
    await withClient(port, 'analyst', async (c) => {
      const r = await c.query('select current_user as u, ssl, version from pg_stat_ssl where pid = pg_backend_pid()');
      expect(r.rows[0]).toMatchObject({ u: 'IAM:analyst', ssl: true });
      expect(String(r.rows[0].version)).toMatch(/^TLSv1\.[23]$/);
    });
    expect(stack.emulator.callLog.some((c) => c.action === 'GetClusterCredentials' && c.params.DbUser === 'analyst')).toBe(true);
  });

  it('psql logs in with no password (sslmode=prefer gets N and goes on) and sees IAMA: with --auto-create', async () => {
    const r = await psql(`host=127.0.0.1 port=${stack.port} dbname=dev user=newcomer`, ['-At', '-c', 'select current_user']);
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe('IAMA:newcomer');
  });

  it('uses --db-user for every client name and passes startup parameters through', async () => {
    const p = await stack.startProxy({ dbUser: 'analyst', autoCreate: false });
    const c = pgClient(p.addresses[0]?.port as number, 'whoever', 'dev', { application_name: 'dash-7', options: '-c search_path=pg_catalog' } as Partial<pg.ClientConfig>);
    await c.connect();
    try {
      const r = await c.query("select current_user as u, current_setting('application_name') as app, current_setting('search_path') as sp");
      expect(r.rows[0]).toEqual({ u: 'IAM:analyst', app: 'dash-7', sp: 'pg_catalog' });
    } finally {
      await c.end();
    }
  });

  it('reports ParameterStatus values to the client as the server sent them', async () => {
    await withClient(stack.port, 'analyst', async (c) => {
      const params = (c as unknown as { connectionParameters: unknown; processID: number }).processID;
      expect(typeof params).toBe('number');
      const r = await c.query('show server_version');
      expect(r.rows[0].server_version).toMatch(/^\d+/);
    });
  });
});

describe('queries through the proxy', () => {
  it('simple and extended query protocol', async () => {
    await withClient(stack.port, 'analyst', async (c) => {
      const multi = await c.query('select 1 as a; select 2 as b');
      expect((multi as unknown as pg.QueryResult[]).map((x) => x.rows[0])).toEqual([{ a: 1 }, { b: 2 }]);
      const ext = await c.query({ text: 'select $1::int + $2::int as s', values: [40, 2], name: 'adder' });
      expect(ext.rows[0].s).toBe(42);
      const again = await c.query({ text: 'select $1::int + $2::int as s', values: [1, 2], name: 'adder' });
      expect(again.rows[0].s).toBe(3);
      const big = await c.query('select repeat(md5(g::text), 20) as r from generate_series(1, 5000) g');
      expect(big.rowCount).toBe(5000);
    });
  });

  it('a transaction with an error fails, then ROLLBACK restores the session', async () => {
    await withClient(stack.port, 'analyst', async (c) => {
      await c.query('begin');
      await expect(c.query('select 1/0')).rejects.toMatchObject({ code: '22012' });
      await expect(c.query('select 1')).rejects.toMatchObject({ code: '25P02' });
      await c.query('rollback');
      expect((await c.query('select 7 as x')).rows[0].x).toBe(7);
    });
  });

  it('COPY in and out with psql \\copy', async () => {
    const conn = `host=127.0.0.1 port=${stack.port} dbname=dev user=analyst`;
    const rows = Array.from({ length: 2000 }, (_, i) => `${i}\trow-${i}`).join('\n') + '\n';
    const setup = await psql(conn, ['-c', 'create table if not exists copy_t(id int, v text)', '-c', 'truncate copy_t']);
    expect(setup.code).toBe(0);
    const load = await psql(conn, ['-c', '\\copy copy_t from stdin'], rows);
    expect(load.stderr).toBe('');
    const out = await psql(conn, ['-c', '\\copy (select id, v from copy_t order by id) to stdout']);
    expect(out.code).toBe(0);
    expect(out.stdout).toBe(rows);
  });

  it('a CancelRequest with the proxy-issued key cancels pg_sleep with 57014', async () => {
    const c = pgClient(stack.port, 'analyst');
    await c.connect();
    try {
      const { processID, secretKey } = c as unknown as { processID: number; secretKey: number };
      const sleeping = c.query('select pg_sleep(30)');
      await new Promise((r) => setTimeout(r, 300));
      // CancelRequest built by hand: length 16, code 80877102, process id, secret.
      const cancel = Buffer.alloc(16);
      cancel.writeInt32BE(16, 0);
      cancel.writeInt32BE(80877102, 4);
      cancel.writeInt32BE(processID, 8);
      cancel.writeInt32BE(secretKey, 12);
      const s = net.connect({ host: '127.0.0.1', port: stack.port });
      s.end(cancel);
      const started = Date.now();
      await expect(sleeping).rejects.toMatchObject({ code: '57014' });
      expect(Date.now() - started).toBeLessThan(5_000);
      expect((await c.query('select 1 as one')).rows[0].one).toBe(1);
    } finally {
      await c.end();
    }
  });

  it('a CancelRequest with a wrong secret is dropped silently', async () => {
    const c = pgClient(stack.port, 'analyst');
    await c.connect();
    try {
      const { processID, secretKey } = c as unknown as { processID: number; secretKey: number };
      const sleeping = c.query('select pg_sleep(1.5) as done');
      const cancel = Buffer.alloc(16);
      cancel.writeInt32BE(16, 0);
      cancel.writeInt32BE(80877102, 4);
      cancel.writeInt32BE(processID, 8);
      cancel.writeInt32BE(secretKey ^ 1, 12);
      net.connect({ host: '127.0.0.1', port: stack.port }).end(cancel);
      await expect(sleeping).resolves.toMatchObject({ rowCount: 1 });
    } finally {
      await c.end();
    }
  });

  it('never logs an issued password', () => {
    expect(stack.issuedPasswords.length).toBeGreaterThan(0);
    for (const pw of stack.issuedPasswords) expect(stack.logs.text).not.toContain(pw);
  });
});
