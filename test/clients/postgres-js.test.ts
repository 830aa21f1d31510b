/**
 * postgres.js through the proxy. It pipelines by default (queries go out without waiting for earlier answers)
 * and prepares every parameterised query as a named server-side statement; a wire tap between it and the proxy
 * shows how many requests were in flight at once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import postgres from 'postgres';
import { OTHER_DATABASE, startClientStack, statementRunning, waitFor } from './harness.js';
import { WireTap } from './wire-tap.js';
import type { Stack } from '../support/stack.js';

let stack: Stack;

beforeAll(async () => {
  stack = await startClientStack();
});

afterAll(async () => {
  await stack?.stop();
});

type Options = postgres.Options<Record<string, postgres.PostgresType>>;

/** One connection (max: 1) to the proxy, no password, no TLS on loopback; ended by the caller. */
function sql(user: string, options: Options = {}, port = stack.port): postgres.Sql {
  return postgres({ host: '127.0.0.1', port, user, database: 'dev', max: 1, connect_timeout: 15, onnotice: () => undefined, ...options });
}

/** Runs fn, then always ends the connection (waiting up to 5 s for queries still running). */
async function withSql<T>(s: postgres.Sql, fn: (s: postgres.Sql) => Promise<T>): Promise<T> {
  try {
    return await fn(s);
  } finally {
    await s.end({ timeout: 5 });
  }
}

describe('postgres.js through the proxy', () => {
  it('pipelines 200 concurrent queries on one connection; each gets its own answer, errors included', async () => {
    const tap = new WireTap(stack.port);
    const port = await tap.listen();
    try {
      await withSql(sql('pjs_pipe', {}, port), async (s) => {
        const results = await Promise.all(Array.from({ length: 200 }, (_, i) =>
          i === 100
            ? s`select 1 / ${i - 100}::int as n`.then(() => 'no error', (e: postgres.PostgresError) => e.code)
            : s`select ${i}::int as n, repeat('x', ${i}) as pad`.then((rows) => rows[0]?.n as number)));
        expect(results[100]).toBe('22012');
        expect(results.filter((_, i) => i !== 100)).toEqual(Array.from({ length: 200 }, (_, i) => i).filter((i) => i !== 100));
      });
      // Many requests were on the wire before the first answer came back: real pipelining through the proxy.
      expect(tap.requests).toBeGreaterThanOrEqual(200);
      expect(tap.maxInFlight).toBeGreaterThan(50);
    } finally {
      await tap.close();
    }
  });

  it('prepares parameterised queries as named server-side statements and reuses them', async () => {
    await withSql(sql('pjs_prep'), async (s) => {
      for (let i = 0; i < 10; i++) expect((await s`select ${i}::int * 3 as t`)[0]?.t).toBe(i * 3);
      const named = await s`select name from pg_prepared_statements where statement like ${'%* 3 as t'}`;
      expect(named).toHaveLength(1);
      // With prepare: false the unnamed statement is used instead (what PgBouncer users configure).
      const unprepared = sql('pjs_prep', { prepare: false });
      await withSql(unprepared, async (u) => {
        expect((await u`select ${7}::int as v`)[0]?.v).toBe(7);
        expect(await u`select name from pg_prepared_statements`).toHaveLength(0);
      });
    });
  });

  it('reads through a cursor 100 rows at a time, inside a transaction with a savepoint', async () => {
    await withSql(sql('pjs_cursor'), async (s) => {
      const seen = await s.begin(async (tx) => {
        let rows = 0;
        let batches = 0;
        for await (const batch of tx`select g from generate_series(1, 1000) g`.cursor(100)) {
          batches++;
          rows += batch.length;
        }
        await tx.savepoint(async (sp) => {
          await sp`create table pjs_t (id int)`;
        });
        await tx.savepoint(async (sp) => {
          await sp`insert into pjs_t values (1)`;
          throw new Error('undo this savepoint');
        }).catch(() => undefined);
        const [count] = await tx`select count(*)::int as n from pjs_t`;
        return { rows, batches, count: count?.n as number };
      });
      expect(seen).toEqual({ rows: 1000, batches: 10, count: 0 });
    });
  });

  it('COPY in and out through streams', async () => {
    await withSql(sql('pjs_copy'), async (s) => {
      await s`create table pjs_copy_t (id int, v text)`;
      const lines = Array.from({ length: 10_000 }, (_, i) => `${i}\tvalue ${i} é\n`);
      await pipeline(Readable.from(lines), await s`copy pjs_copy_t from stdin`.writable());
      const chunks: Buffer[] = [];
      await pipeline(await s`copy (select id, v from pjs_copy_t order by id) to stdout`.readable(), new Writable({
        write(chunk: Buffer, _enc, done) {
          chunks.push(chunk);
          done();
        },
      }));
      expect(Buffer.concat(chunks).toString('utf8')).toBe(lines.join(''));
    });
  });

  it('query.cancel() sends a CancelRequest through the proxy: 57014, and the connection goes on', async () => {
    await withSql(sql('pjs_cancel'), async (s) => {
      const sleep = 'select pg_sleep(30) as pjs';
      const q = s.unsafe(sleep);
      const outcome = q.then(() => 'completed', (e: postgres.PostgresError) => e.code);
      await waitFor(() => statementRunning(stack, sleep), 'pg_sleep to start');
      const started = Date.now();
      q.cancel();
      expect(await outcome).toBe('57014');
      expect(Date.now() - started).toBeLessThan(5_000);
      expect((await s`select 1 as one`)[0]?.one).toBe(1);
    });
  });

  it('LISTEN/NOTIFY', async () => {
    await withSql(sql('pjs_listen', { max: 2 }), async (s) => {
      const received = new Promise<string>((resolve) => {
        void s.listen('pjs_channel', resolve).then(() => s.notify('pjs_channel', 'ping'));
      });
      expect(await received).toBe('ping');
    });
  });

  it('ssl: "prefer" is told N by the proxy and goes on in plaintext', async () => {
    await withSql(sql('pjs_ssl', { ssl: 'prefer' }), async (s) => {
      const [r] = await s`select current_user as u, (select ssl from pg_stat_ssl where pid = pg_backend_pid()) as upstream_tls`;
      expect(r).toEqual({ u: 'IAMA:pjs_ssl', upstream_tls: true });
    });
  });

  it('sends any startup parameter it is given, and opens the database it names', async () => {
    const s = sql('pjs_params', {
      database: OTHER_DATABASE,
      connection: {
        application_name: 'superset-worker',
        DateStyle: 'SQL, DMY',
        extra_float_digits: 1,
        TimeZone: 'Asia/Tokyo',
        options: '-c search_path=pg_catalog -c work_mem=8MB',
      },
    });
    await withSql(s, async (c) => {
      const [r] = await c`select current_database() as db, current_setting('application_name') as app,
        current_setting('DateStyle') as ds, current_setting('extra_float_digits') as efd, current_setting('TimeZone') as tz,
        current_setting('search_path') as sp, current_setting('work_mem') as wm, current_setting('client_encoding') as ce`;
      expect(r).toEqual({ db: OTHER_DATABASE, app: 'superset-worker', ds: 'SQL, DMY', efd: '1', tz: 'Asia/Tokyo',
        sp: 'pg_catalog', wm: '8MB', ce: 'UTF8' });
    });
  });
});
