/**
 * psqlODBC through unixODBC — the driver path of Tableau and Power BI on PostgreSQL protocols — with a DSN-less
 * connection string and no password: from Python (pyodbc, python/odbc_client.py) for queries and the catalog
 * calls a BI tool makes, and from unixODBC's own `isql` for the plain C path.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { CLIENTS_DIR, DEBIAN_PYTHON, OTHER_DATABASE, reportObject, requireInstalled, runProgram, startClientStack } from './harness.js';
import type { Stack } from '../support/stack.js';

let stack: Stack;
let driver: string;

/** Debian's odbc-postgresql puts the Unicode driver in the multiarch library directory (x86_64, aarch64...). */
function findDriver(): string {
  const found = readdirSync('/usr/lib', { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => path.join('/usr/lib', d.name, 'odbc', 'psqlodbcw.so'))
    .find((p) => existsSync(p));
  if (!found) throw new Error('psqlodbcw.so is missing: install the Debian package odbc-postgresql (listed in .ci/packages)');
  return found;
}

beforeAll(async () => {
  driver = findDriver();
  requireInstalled('isql', 'unixodbc');
  requireInstalled(DEBIAN_PYTHON, 'python3');
  const pyodbc = await runProgram(DEBIAN_PYTHON, ['-c', 'import pyodbc']);
  if (pyodbc.code !== 0) throw new Error(`pyodbc is missing: install the Debian package python3-pyodbc\n${pyodbc.stderr}`);
  stack = await startClientStack();
});

afterAll(async () => {
  await stack?.stop();
});

async function scenario(name: string): Promise<Record<string, string>> {
  const r = await runProgram(DEBIAN_PYTHON, [path.join(CLIENTS_DIR, 'python', 'odbc_client.py'), name, String(stack.port), driver],
    { timeoutMs: 45_000 });
  return reportObject(r, `odbc_client.py ${name}`);
}

describe('psqlODBC through the proxy', () => {
  it('connects DSN-less with an empty password and SSLmode=prefer; runs parameterised and large queries', async () => {
    const r = await scenario('connect');
    expect(r).toMatchObject({
      dbms: 'PostgreSQL',
      user: 'IAMA:odbc_user',
      database: 'dev',
      upstreamTls: '1',
      // BoolsAsChar (the driver's default) turns the boolean into '1'.
      param: "(42, 'naïve ☃', '1')",
      rows: '5000',
    });
    expect(r.driverVersion).toMatch(/^\d+\.\d+/);
  });

  it('answers SQLTables, SQLColumns, SQLPrimaryKeys, SQLForeignKeys, SQLStatistics and SQLGetTypeInfo', async () => {
    const r = await scenario('metadata');
    expect(r).toMatchObject({
      tables: 'meta_parent:TABLE,meta_t:TABLE,meta_v:VIEW',
      columns: 'id:int4,parent_id:int4,name:text,amount:numeric',
      primaryKeys: 'id',
      foreignKeys: 'meta_parent',
      statistics: 'meta_t_name,meta_t_pkey',
    });
    expect(Number(r.typeInfo)).toBeGreaterThan(10);
  });

  it('commits, rolls back, and recovers from an error inside a transaction', async () => {
    const r = await scenario('transactions');
    expect(r).toMatchObject({ afterRollback: '0', afterCommit: '100', duplicate: '23505', afterError: '100' });
  });

  it('reads a large result through the driver\'s server-side cursor (UseDeclareFetch=1, Fetch=100)', async () => {
    const r = await scenario('declare-fetch');
    expect(r).toMatchObject({ cursorsMidFetch: '1', rows: '1000', sum: '500500' });
  });

  it('opens the database in the connection string and passes libpq options (pqopt)', async () => {
    const r = await scenario('startup');
    expect(r).toMatchObject({ database: OTHER_DATABASE, application_name: 'Tableau', statement_timeout: '1234ms', client_encoding: 'UTF8' });
  });

  it('unixODBC isql (SQLDriverConnect, C API) runs queries', async () => {
    const conn = `Driver=${driver};Server=127.0.0.1;Port=${stack.port};Database=dev;Uid=isql_user;Pwd=;SSLmode=prefer`;
    const r = await runProgram('isql', ['-k', conn, '-b', '-d|'],
      { input: 'select current_user, 6 * 7\nselect count(*) from generate_series(1, 100)\n', timeoutMs: 30_000 });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout.trim().split('\n')).toEqual(['IAMA:isql_user|42', '100']);
  });
});
