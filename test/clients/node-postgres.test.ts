/**
 * node-postgres (`pg`) through the proxy: many queries on one client, named and unnamed prepared statements,
 * a pool of concurrent connections, notifications, startup parameters, replication refused.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { OTHER_DATABASE, startClientStack } from './harness.js';
import { WireTap } from './wire-tap.js';
import type { Stack } from '../support/stack.js';

let stack: Stack;

beforeAll(async () => {
  stack = await startClientStack();
});

afterAll(async () => {
  await stack?.stop();
});

/** A connected client to the proxy (no password); always ended. */
async function withClient<T>(config: pg.ClientConfig, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ host: '127.0.0.1', port: stack.port, database: 'dev', connectionTimeoutMillis: 15_000, ...config });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end().catch(() => undefined);
  }
}

describe('node-postgres through the proxy', () => {
  it('runs 200 queries back to back on one client, one request on the wire at a time, an error among them', async () => {
    const tap = new WireTap(stack.port);
    const port = await tap.listen();
    try {
      await withClient({ user: 'pg_many', port }, async (c) => {
        const results: Array<number | string | undefined> = [];
        for (let i = 0; i < 200; i++) {
          results.push(i === 50
            ? await c.query('select 1 / 0').then(() => 'no error', (e: { code?: string }) => e.code)
            : (await c.query<{ n: number }>('select $1::int as n', [i])).rows[0]?.n);
        }
        expect(results[50]).toBe('22012');
        expect(results.filter((_, i) => i !== 50)).toEqual(Array.from({ length: 200 }, (_, i) => i).filter((i) => i !== 50));
      });
      // pg sends a query after the previous answer (postgres-js.test.ts shows a pipelining client).
      expect(tap.requests).toBeGreaterThanOrEqual(200);
      expect(tap.maxInFlight).toBe(1);
    } finally {
      await tap.close();
    }
  });

  it('parses a named prepared statement once and reuses it; unnamed statements leave nothing behind', async () => {
    await withClient({ user: 'pg_prep' }, async (c) => {
      for (let i = 0; i < 10; i++) {
        const r = await c.query<{ s: number }>({ name: 'times_four', text: 'select $1::int * 4 as s', values: [i] });
        expect(r.rows[0]?.s).toBe(i * 4);
      }
      await c.query('select $1::text as unnamed', ['x']);
      const named = await c.query<{ name: string }>('select name from pg_prepared_statements order by name');
      expect(named.rows.map((r) => r.name)).toEqual(['times_four']);
      // rowMode array and binary-safe bytea both ways.
      const bytes = Buffer.from([0, 1, 2, 254, 255]);
      const r = await c.query<unknown[]>({ text: 'select $1::bytea as b, length($1::bytea) as n', values: [bytes], rowMode: 'array' });
      expect(r.rows[0]).toEqual([bytes, 5]);
    });
  });

  it('a pool of 10 serves 1000 queries', async () => {
    const pool = new pg.Pool({ host: '127.0.0.1', port: stack.port, user: 'pg_pool', database: 'dev', max: 10 });
    try {
      const sums = await Promise.all(Array.from({ length: 1000 }, (_, i) =>
        pool.query<{ s: number }>('select $1::int + 1 as s', [i]).then((r) => r.rows[0]?.s)));
      expect(sums).toEqual(Array.from({ length: 1000 }, (_, i) => i + 1));
      const backends = await pool.query<{ n: number }>("select count(*)::int as n from pg_stat_activity where usename = 'IAMA:pg_pool'");
      expect(backends.rows[0]?.n).toBe(10);
    } finally {
      await pool.end();
    }
  });

  it('delivers LISTEN/NOTIFY notifications and notices', async () => {
    await withClient({ user: 'pg_listen' }, async (listener) => {
      const notified = new Promise<pg.Notification>((resolve) => listener.once('notification', resolve));
      const noticed = new Promise<string>((resolve) => listener.once('notice', (n) => resolve(n.message)));
      await listener.query('listen pg_channel');
      await withClient({ user: 'pg_listen' }, (other) => other.query("notify pg_channel, 'hello'"));
      expect((await notified).payload).toBe('hello');
      await listener.query("do $$ begin raise notice 'a notice'; end $$");
      expect(await noticed).toBe('a notice');
    });
  });

  it('sends application_name, options and timeouts at startup, and opens the database it names', async () => {
    await withClient({ user: 'pg_params', database: OTHER_DATABASE, application_name: 'grafana', options: '-c search_path=pg_catalog',
      statement_timeout: 3000, lock_timeout: 2000, idle_in_transaction_session_timeout: 60_000 }, async (c) => {
      const r = await c.query(`select current_database() as db, current_setting('application_name') as app,
        current_setting('search_path') as sp, current_setting('statement_timeout') as st, current_setting('lock_timeout') as lt,
        current_setting('idle_in_transaction_session_timeout') as it`);
      expect(r.rows[0]).toEqual({ db: OTHER_DATABASE, app: 'grafana', sp: 'pg_catalog', st: '3s', lt: '2s', it: '1min' });
    });
  });

  it('is refused replication=database with SQLSTATE 0A000', async () => {
    // `replication` is a ClientConfig setting pg supports but its type definitions leave out.
    const config: pg.ClientConfig & { replication: string } = { host: '127.0.0.1', port: stack.port, user: 'pg_repl',
      database: 'dev', replication: 'database' };
    const c = new pg.Client(config);
    try {
      await expect(c.connect()).rejects.toMatchObject({
        code: '0A000',
        message: expect.stringMatching(/replication connections are not supported/) as unknown,
      });
    } finally {
      await c.end().catch(() => undefined);
    }
  });
});
