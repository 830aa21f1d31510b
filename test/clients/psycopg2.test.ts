/**
 * psycopg2 (libpq underneath; what notebooks, pandas, SQLAlchemy, Superset and dbt's postgres adapter use)
 * through the proxy, from Debian's python3-psycopg2 and python3-sqlalchemy and a helper program
 * (python/psycopg2_client.py).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import path from 'node:path';
import { CLIENTS_DIR, DEBIAN_PYTHON, OTHER_DATABASE, reportObject, requireInstalled, runProgram, startClientStack } from './harness.js';
import type { Stack } from '../support/stack.js';

let stack: Stack;

beforeAll(async () => {
  requireInstalled(DEBIAN_PYTHON, 'python3');
  for (const [module, pkg] of [['psycopg2', 'python3-psycopg2'], ['sqlalchemy', 'python3-sqlalchemy']] as const) {
    const check = await runProgram(DEBIAN_PYTHON, ['-c', `import ${module}`]);
    if (check.code !== 0) throw new Error(`${module} is missing: install the Debian package ${pkg}\n${check.stderr}`);
  }
  stack = await startClientStack();
});

afterAll(async () => {
  await stack?.stop();
});

async function scenario(name: string): Promise<Record<string, string>> {
  const r = await runProgram(DEBIAN_PYTHON, [path.join(CLIENTS_DIR, 'python', 'psycopg2_client.py'), name, String(stack.port)],
    { timeoutMs: 45_000 });
  return reportObject(r, `psycopg2_client.py ${name}`);
}

describe('psycopg2 through the proxy', () => {
  it('COPY in and out (copy_expert) round-trips 20000 rows byte for byte; a bad COPY fails and the session recovers', async () => {
    const r = await scenario('copy');
    expect(r).toMatchObject({
      copiedIn: '20000',
      copiedOut: '20000',
      roundTrip: 'True',
      md5: 'True',
      csv: 'id,note|1,note 1|2,note 2|3,note 3|',
      badCopy: '22P02',
      rowsAfterBadCopy: '20000',
    });
  });

  it('iterates a named (server-side) cursor 100 rows at a time; a WITH HOLD cursor survives commit', async () => {
    const r = await scenario('named-cursor');
    expect(r).toMatchObject({ rows: '1000', sum: '500500', serverCursor: 'big_result', heldAfterCommit: '10' });
  });

  it('commits, rolls back, recovers from an error, uses savepoints and session characteristics', async () => {
    const r = await scenario('transactions');
    expect(r).toMatchObject({
      afterRollback: '0',
      afterCommit: '2',
      error: '23505',
      afterError: '2',
      afterSavepoint: '1,2,11',
      session: 'serializable,on',
    });
  });

  it('receives LISTEN/NOTIFY notifications and NOTICE messages between queries', async () => {
    const r = await scenario('notify');
    expect(r).toMatchObject({ payload: 'job-42', notice: 'NOTICE:  hello from plpgsql' });
  });

  it('opens the database it names and passes application_name, options and client_encoding', async () => {
    const r = await scenario('startup');
    expect(r).toMatchObject({
      database: OTHER_DATABASE,
      application_name: 'jupyter-notebook',
      search_path: 'pg_catalog',
      statement_timeout: '2500ms',
      client_encoding: 'LATIN1',
      encoding: 'LATIN1',
      // Sent back in LATIN1 by the server, decoded by psycopg2: the conversion happened end to end.
      text: 'é',
    });
  });

  it('SQLAlchemy: reflection as Superset lists tables and columns, bound parameters, stream_results', async () => {
    const r = await scenario('sqlalchemy');
    expect(r).toMatchObject({
      schemas: 'public',
      tables: 'sqla_t',
      columns: 'id:INTEGER,name:TEXT,amount:NUMERIC(10, 2)',
      primaryKey: 'id',
      app: 'superset',
      bound: '5.50',
      streamed: '500:125250',
    });
  });

  it('is refused a logical replication connection with a sentence saying why', async () => {
    const r = await scenario('replication');
    expect(r.message).toMatch(/replication connections are not supported through redshift-auth-proxy/);
  });
});
