/**
 * psql and pgbench (libpq, from Debian's postgresql-client) through the proxy: \copy both ways, the catalog
 * queries behind psql's \d commands, Ctrl-C cancelling a running statement, and pgbench's initialisation and a
 * short run in prepared mode on four connections.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { OTHER_DATABASE, requireInstalled, runProgram, startClientStack, statementRunning, waitFor } from './harness.js';
import type { ProgramResult } from './harness.js';
import type { Stack } from '../support/stack.js';

let stack: Stack;

beforeAll(async () => {
  requireInstalled('psql', 'postgresql-client');
  requireInstalled('pgbench', 'postgresql-client');
  stack = await startClientStack();
});

afterAll(async () => {
  await stack?.stop();
});

const conninfo = (user: string, database = 'dev'): string => `host=127.0.0.1 port=${stack.port} dbname=${database} user=${user}`;

/** psql without ~/.psqlrc, stopping at the first error, with libpq's connect timeout. */
function psql(user: string, args: readonly string[], input?: string, database?: string): Promise<ProgramResult> {
  return runProgram('psql', [conninfo(user, database), '-X', '-v', 'ON_ERROR_STOP=1', ...args],
    { env: { PGCONNECT_TIMEOUT: '15' }, timeoutMs: 30_000, ...(input !== undefined ? { input } : {}) });
}

describe('psql through the proxy', () => {
  it('\\copy in and out, text and CSV with a header, byte for byte', async () => {
    const setup = await psql('psql_copy', ['-c', 'create table copy_t (id int, v text, note text)']);
    expect(setup.stderr).toBe('');
    const text = Array.from({ length: 5000 }, (_, i) => `${i}\tvalue ${i} é\t${i % 5 === 0 ? '\\N' : `tab\\there ${i}`}\n`).join('');
    const load = await psql('psql_copy', ['-c', '\\copy copy_t from pstdin'], text);
    expect(load.stderr).toBe('');
    expect(load.stdout.trim()).toBe('COPY 5000');
    const out = await psql('psql_copy', ['-c', '\\copy (select * from copy_t order by id) to pstdout']);
    expect(out.code).toBe(0);
    expect(out.stdout).toBe(text);
    const csv = await psql('psql_copy', ['-c', "\\copy (select id, v from copy_t where id < 3 order by id) to pstdout with (format csv, header)"]);
    expect(csv.stdout).toBe('id,v\n0,value 0 é\n1,value 1 é\n2,value 2 é\n');
    const csvIn = await psql('psql_copy', ['-c', '\\copy copy_t (id, v) from pstdin with (format csv, header)', '-c',
      'select count(*) from copy_t where id >= 10000'], 'id,v\n10000,"a, quoted"\n10001,"line\nbreak"\n');
    expect(csvIn.stderr).toBe('');
    expect(csvIn.stdout).toMatch(/COPY 2\n\s*count\s*\n-+\n\s*2\n/);
  });

  it('runs the catalog queries behind \\l, \\dn, \\dt, \\d and \\df', async () => {
    await psql('psql_meta', ['-c', 'create table meta_t (id int primary key, name text not null)']);
    const r = await psql('psql_meta', ['-c', '\\l', '-c', '\\dn', '-c', '\\dt', '-c', '\\d meta_t', '-c', '\\df upper']);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/List of databases[\s\S]*\bdev\b[\s\S]*\bother\b/);
    expect(r.stdout).toMatch(/List of schemas[\s\S]*\bpublic\b/);
    expect(r.stdout).toMatch(/public \| meta_t \| table \| IAMA:psql_meta/);
    expect(r.stdout).toMatch(/Table "public\.meta_t"[\s\S]*"meta_t_pkey" PRIMARY KEY, btree \(id\)/);
    expect(r.stdout).toMatch(/pg_catalog \| upper/);
  });

  it('Ctrl-C cancels the running statement: "canceling statement due to user request", non-zero exit, promptly', async () => {
    const sleep = 'select pg_sleep(30) as psql_ctrl_c';
    const env: NodeJS.ProcessEnv = { ...process.env, PGCONNECT_TIMEOUT: '15' };
    delete env.PGPASSWORD;
    const child = spawn('psql', [conninfo('psql_cancel'), '-X', '-c', sleep], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      await waitFor(() => statementRunning(stack, sleep), 'psql\'s pg_sleep to start');
      const started = Date.now();
      // What the terminal sends on Ctrl-C; psql answers with a CancelRequest on a new connection (to the proxy).
      child.kill('SIGINT');
      const code = await exited;
      expect(stderr).toMatch(/canceling statement due to user request/);
      expect(code).not.toBe(0);
      expect(Date.now() - started).toBeLessThan(5_000);
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('opens the database in the connection string', async () => {
    const r = await psql('psql_db', ['-At', '-c', 'select current_database()'], undefined, OTHER_DATABASE);
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe(OTHER_DATABASE);
  });

  it('a replication=database connection is refused with a sentence saying why', async () => {
    const r = await runProgram('psql', [`${conninfo('psql_repl')} replication=database`, '-X', '-c', 'IDENTIFY_SYSTEM'],
      { timeoutMs: 30_000 });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/replication connections are not supported through redshift-auth-proxy/);
  });
});

describe('pgbench through the proxy', () => {
  it('initialises (-i: DDL, COPY, VACUUM, primary keys), then runs -M prepared -T 3 -c 4 with no failed transaction', async () => {
    const base = ['-h', '127.0.0.1', '-p', String(stack.port), '-U', 'bench'];
    const init = await runProgram('pgbench', [...base, '-i', '-s', '1', 'dev'], { timeoutMs: 60_000 });
    expect(init.code, init.stderr).toBe(0);
    expect(init.stderr).toMatch(/done in/);
    const run = await runProgram('pgbench', [...base, '-M', 'prepared', '-T', '3', '-c', '4', '-j', '2', 'dev'],
      { timeoutMs: 60_000 });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/query mode: prepared/);
    expect(run.stdout).toMatch(/number of clients: 4/);
    const processed = /number of transactions actually processed: (\d+)/.exec(run.stdout);
    expect(Number(processed?.[1])).toBeGreaterThan(100);
    // pgbench 15 counts failures; older ones abort the client instead (and exit non-zero, caught above).
    const failed = /number of failed transactions: (\d+)/.exec(run.stdout);
    if (failed) expect(failed[1]).toBe('0');
    expect(run.stderr).not.toMatch(/error|abort/i);
  });
});
