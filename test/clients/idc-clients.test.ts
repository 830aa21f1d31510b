/**
 * The real-client matrix through an IAM Identity Center listener: pgjdbc (DBeaver's driver), psycopg2 (notebooks,
 * dbt) and psql connect to the proxy with no password and no AWS knowledge; the proxy logs in to the IdC stand-in
 * with the token, and each runs as AWSIDC:<person>.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CLIENTS_DIR, DEBIAN_PYTHON, reportObject, requireInstalled, runProgram } from './harness.js';
import { psql } from '../support/clients.js';
import { IDC_USER, startIdcStack } from '../support/idc-stack.js';
import type { IdcStack } from '../support/idc-stack.js';

const DRIVER_JAR = '/usr/share/java/postgresql.jar';
const PERSON = `AWSIDC:${IDC_USER}`;

let stack: IdcStack;
let classDir: string;

beforeAll(async () => {
  requireInstalled('javac', 'default-jdk-headless');
  requireInstalled(DRIVER_JAR, 'libpostgresql-jdbc-java');
  requireInstalled(DEBIAN_PYTHON, 'python3');
  requireInstalled('psql', 'postgresql-client');
  classDir = mkdtempSync(path.join(tmpdir(), 'rap-idc-jdbc-'));
  const [compiled, started] = await Promise.all([
    runProgram('javac', ['-cp', DRIVER_JAR, '-d', classDir, path.join(CLIENTS_DIR, 'java', 'JdbcClient.java')], { timeoutMs: 60_000 }),
    startIdcStack(),
  ]);
  stack = started;
  if (compiled.code !== 0) throw new Error(`javac failed:\n${compiled.stderr}`);
}, 120_000);

afterAll(async () => {
  await stack?.stop();
  if (classDir) rmSync(classDir, { recursive: true, force: true });
});

const jdbc = async (name: string): Promise<Record<string, string>> => reportObject(await runProgram('java',
  ['-cp', `${classDir}${path.delimiter}${DRIVER_JAR}`, 'JdbcClient', name, String(stack.port)], { timeoutMs: 45_000 }), `JdbcClient ${name}`);

const python = async (name: string): Promise<Record<string, string>> => reportObject(await runProgram(DEBIAN_PYTHON,
  [path.join(CLIENTS_DIR, 'python', 'psycopg2_client.py'), name, String(stack.port)], { timeoutMs: 45_000 }), `psycopg2 ${name}`);

describe('real clients through an IAM Identity Center listener', () => {
  it('pgjdbc connects with no password and runs as the person, over TLS upstream', async () => {
    expect(await jdbc('connect')).toMatchObject({ product: 'PostgreSQL', user: PERSON, database: 'dev', upstreamTls: 't' });
  });

  it('pgjdbc cancels a running statement (the cancel reaches the database through the stand-in)', async () => {
    const r = await jdbc('cancel');
    expect(r.sqlstate, r.outcome).toBe('57014');
    expect(r.afterCancel).toBe('1');
  });

  it('psycopg2 connects with no password, runs as the person, and writes as the person', async () => {
    expect(await python('whoami')).toEqual({ user: PERSON, session_user: PERSON, rows: '2', owner: PERSON });
  });

  it('psycopg2 transactions behave as on a direct connection', async () => {
    expect(await python('transactions')).toMatchObject({ afterRollback: '0', afterCommit: '2', error: '23505', afterError: '2',
      afterSavepoint: '1,2,11' });
  });

  it('psql connects with no password and runs as the person', async () => {
    const r = await psql(`host=127.0.0.1 port=${stack.port} dbname=dev user=analyst`, ['-At', '-c', 'select current_user, session_user']);
    expect(r.stderr).toBe('');
    expect([r.code, r.stdout.trim()]).toEqual([0, `${PERSON}|${PERSON}`]);
  });

  it('psql shows a refused token as the proxy explains it', async () => {
    stack.emulator.identityCenter.expireAccessTokens();
    const r = await psql(`host=127.0.0.1 port=${stack.port} dbname=dev user=analyst`, ['-c', 'select 1']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/FATAL: {2}Redshift refused the IAM Identity Center token/);
    expect(r.stderr).toMatch(/DETAIL: {2}Redshift said: Token credentials expired or invalid/);
    expect(r.stderr).toMatch(/HINT: {2}Check that --idc-token-command prints a current IAM Identity Center access token/);
    await stack.setCommandOutput(await stack.issueToken());
    const again = await psql(`host=127.0.0.1 port=${stack.port} dbname=dev user=analyst`, ['-At', '-c', 'select current_user']);
    expect(again.stdout.trim()).toBe(PERSON);
  });
});
