/**
 * pgjdbc — the driver inside DBeaver, DataGrip and Metabase — through the proxy, with Debian's driver jar and a
 * small Java program (java/JdbcClient.java) compiled here. It connects with the driver's default sslmode
 * ("prefer": the proxy answers 'N' on loopback and the driver goes on in plaintext).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CLIENTS_DIR, OTHER_DATABASE, reportObject, requireInstalled, runProgram, startClientStack } from './harness.js';
import type { Stack } from '../support/stack.js';

/** Debian's libpostgresql-jdbc-java (42.x). */
const DRIVER_JAR = '/usr/share/java/postgresql.jar';

let stack: Stack;
let classDir: string;

beforeAll(async () => {
  requireInstalled('javac', 'default-jdk-headless');
  requireInstalled('java', 'default-jdk-headless');
  requireInstalled(DRIVER_JAR, 'libpostgresql-jdbc-java');
  classDir = mkdtempSync(path.join(tmpdir(), 'rap-jdbc-'));
  const [compiled, started] = await Promise.all([
    runProgram('javac', ['-cp', DRIVER_JAR, '-d', classDir, path.join(CLIENTS_DIR, 'java', 'JdbcClient.java')], { timeoutMs: 60_000 }),
    startClientStack(),
  ]);
  stack = started;
  if (compiled.code !== 0) throw new Error(`javac failed:\n${compiled.stderr}`);
});

afterAll(async () => {
  await stack?.stop();
  if (classDir) rmSync(classDir, { recursive: true, force: true });
});

async function scenario(name: string): Promise<Record<string, string>> {
  const r = await runProgram('java', ['-cp', `${classDir}${path.delimiter}${DRIVER_JAR}`, 'JdbcClient', name, String(stack.port)],
    { timeoutMs: 45_000 });
  return reportObject(r, `JdbcClient ${name}`);
}

describe('pgjdbc through the proxy', () => {
  it('connects with the default sslmode and no password, as the IAM user, over TLS upstream', async () => {
    const r = await scenario('connect');
    expect(r).toMatchObject({ product: 'PostgreSQL', user: 'IAMA:jdbc_user', database: 'dev', upstreamTls: 't' });
    expect(r.driver).toMatch(/PostgreSQL JDBC Driver 42\./);
  });

  it('sends its startup parameters and the URL\'s options, and opens the database it names', async () => {
    const r = await scenario('startup');
    expect(r).toMatchObject({
      database: OTHER_DATABASE,
      application_name: 'DBeaver 23.3.0 - Main',
      client_encoding: 'UTF8',
      extra_float_digits: '3',
      search_path: 'pg_catalog,public',
      statement_timeout: '4321ms',
    });
    expect(r.DateStyle).toMatch(/^ISO/);
    expect(r.TimeZone).toBeTruthy();
  });

  it('answers the DatabaseMetaData calls a SQL IDE makes when it opens a connection', async () => {
    const r = await scenario('metadata');
    expect(r).toMatchObject({
      currentSchema: 'public',
      pgDatabaseRow: 'true',
      catalogs: 'dev',
      tables: 'ide_parent,ide_t,ide_v',
      tableRemarks: 'the IDE table',
      columns: 'id,parent_id,name,amount,created',
      columnTypes: 'int4,int4,text,numeric,timestamptz',
      primaryKeys: 'id',
      importedKeys: 'ide_parent',
      exportedKeys: 'ide_t',
      identifierQuote: '"',
      sqlKeywords: 'present',
    });
    expect(r.schemas?.split(',')).toEqual(expect.arrayContaining(['information_schema', 'pg_catalog', 'public']));
    expect(r.indexes?.split(',').sort()).toEqual(['ide_t_name', 'ide_t_pkey']);
    expect(Number(r.typeInfo)).toBeGreaterThan(50);
    expect(Number(r.tableTypes)).toBeGreaterThan(5);
    expect(Number(r.functions)).toBeGreaterThan(0);
    expect(Number(r.procedureColumns)).toBeGreaterThan(0);
  });

  it('switches to a named server-side prepared statement past prepareThreshold=5 and keeps using it', async () => {
    const r = await scenario('prepared');
    // Executions 1-4 use the unnamed statement; the fifth prepares S_1 in the server session, which 6-10 reuse.
    expect(r.namedAfterEachExecution).toBe('- - - - S_1 S_1 S_1 S_1 S_1 S_1');
    expect(r).toMatchObject({ useServerPrepare: 'true', sum: '110' });
  });

  it('runs a 1000-row batch, and reports a failing batch with its SQLSTATE', async () => {
    const r = await scenario('batch');
    expect(r).toMatchObject({ batchUpdated: '1000', rows: '1000', duplicateBatch: '23505', rowsAfterRollback: '1000' });
  });

  it('Statement.cancel() ends pg_sleep with 57014 promptly, and the connection stays usable', async () => {
    const r = await scenario('cancel');
    expect(r.sqlstate, r.outcome).toBe('57014');
    expect(r.outcome).toMatch(/canceling statement due to user request/);
    expect(Number(r.cancelMs)).toBeLessThan(5_000);
    expect(r.afterCancel).toBe('1');
  });

  it('fetches 1000 rows 100 at a time through an open portal (autocommit off, setFetchSize)', async () => {
    const r = await scenario('cursor');
    // C_1: the named portal pgjdbc bound for the result set, still open in the server session mid-fetch.
    expect(r).toMatchObject({ rows: '1000', sum: '500500', openPortalsMidFetch: 'C_1' });
  });

  it('is refused a replication connection with SQLSTATE 0A000 and a sentence saying why', async () => {
    const r = await scenario('replication');
    expect(r.sqlstate).toBe('0A000');
    expect(r.message).toMatch(/replication connections are not supported/);
  });
});
