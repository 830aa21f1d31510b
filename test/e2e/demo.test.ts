/**
 * `npm run demo -- --self-test`, as a developer runs it on a fresh machine: the built demo in its own process,
 * with nothing but Node and the project's packages (no PostgreSQL binaries, no openssl, no AWS). It must exit 0
 * and print every step as passed — across a credential expiry.
 */
import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { serialize } from 'pg-protocol';
import { checkMd5Password } from '../../src/demo/md5-password.js';
import { scopeNames } from '../../src/demo/statement-names.js';

const DEMO = path.resolve('dist/src/demo/main.js');

/** The steps the self-test must report, in order (a step's text, up to its " — " result). */
const STEPS = [
  'a tool connects to the proxy with no password and runs as the DbUser AWS returned',
  'the proxy logged in to the stand-in Redshift over TLS with an md5 password',
  'the stand-in Redshift refuses a plaintext login, as Redshift does',
  'queries return the demo data',
  'wait until the first temporary password has expired',
  'the expired password is refused by the stand-in Redshift (28P01), so expiry is real',
  'a new connection after expiry works: the proxy fetched a new password',
  'the session opened before expiry keeps working',
  'two sessions query at once, each in its own transaction',
  'without the demo CA, the proxy refuses the stand-in\'s certificate (08001)',
];

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function runDemo(args: string[], timeoutMs: number): Promise<Run> {
  return new Promise((resolve) => {
    // PATH holds Node's own folder only: no psql, postgres, initdb or openssl can be found, so a pass shows the
    // demo needs none of them.
    const env = { ...process.env, PATH: path.dirname(process.execPath) };
    const child = spawn(process.execPath, [DEMO, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'], timeout: timeoutMs });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    child.once('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('npm run demo -- --self-test', () => {
  it('passes every step across a credential expiry and exits 0', async () => {
    if (!existsSync(DEMO)) throw new Error('dist/src/demo/main.js is missing: npm test runs npm run build first');
    const r = await runDemo(['--self-test', '--port', '0'], 150_000);
    const report = `exit ${String(r.code)}\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`;
    expect(r.code, report).toBe(0);
    const passed = r.stdout.split('\n').filter((l) => l.startsWith('PASS  ')).map((l) => l.slice(6).split(' — ')[0]);
    expect(passed, report).toEqual(STEPS);
    expect(r.stdout, report).not.toMatch(/^FAIL/m);
    expect(r.stdout, report).toMatch(/current_user = IAM:analyst/);
    expect(r.stdout, report).toMatch(/TLSv1\.[23]/);
    expect(r.stdout, report).toMatch(/Self-test passed in [\d.]+ s\./);
  }, 180_000);

  it('--idc: Redshift\'s own IAM Identity Center login, every step passed, exit 0', async () => {
    if (!existsSync(DEMO)) throw new Error('dist/src/demo/main.js is missing: npm test runs npm run build first');
    const r = await runDemo(['--idc', '--self-test', '--port', '0'], 150_000);
    const report = `exit ${String(r.code)}\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`;
    expect(r.code, report).toBe(0);
    const passed = r.stdout.split('\n').filter((l) => l.startsWith('PASS  ')).map((l) => l.slice(6).split(' — ')[0]);
    expect(passed, report).toEqual([
      'a tool connects with no password and runs as the Identity Center person',
      'the proxy answered Redshift\'s code 14 with the token, over TLS, and called no credential API',
      'an expired token is refused with 28000 and a hint, as the tool shows it',
      'a new token is used by the next connection, no restart',
    ]);
    expect(r.stdout, report).toMatch(/current_user = AWSIDC:analyst@example.com/);
    expect(r.stdout, report).toMatch(/TLSv1\.[23], 0 GetClusterCredentials calls/);
  }, 180_000);

  it('--sign-in: nobody signed in, three tools, one sign-in, each runs as the person, exit 0', async () => {
    if (!existsSync(DEMO)) throw new Error('dist/src/demo/main.js is missing: npm test runs npm run build first');
    const r = await runDemo(['--sign-in', '--self-test', '--port', '0'], 150_000);
    const report = `exit ${String(r.code)}\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`;
    expect(r.code, report).toBe(0);
    const passed = r.stdout.split('\n').filter((l) => l.startsWith('PASS  ')).map((l) => l.slice(6).split(' — ')[0]);
    expect(passed, report).toEqual([
      'three tools connect at once with nobody signed in; each runs as the person',
      'one sign-in served them all, and its token is where the AWS CLI keeps it',
    ]);
    expect(r.stdout, report).toMatch(/current_user = IAMA:analyst@example.com, IAMA:analyst@example.com, IAMA:analyst@example.com/);
    expect(r.stdout, report).toMatch(/1 sign-in, token file mode 600, 1 GetCallerIdentity call/);
  }, 180_000);

  it('exits 2 on bad usage, naming the flag', async () => {
    if (!existsSync(DEMO)) throw new Error('dist/src/demo/main.js is missing: npm test runs npm run build first');
    const r = await runDemo(['--lifetime', '0'], 30_000);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--lifetime must be/);
  });
});

describe('stand-in Redshift parts', () => {
  // Reference frames come from pg-protocol's serializer (node-postgres), not from the code under test.
  it('scopes statement and portal names per session, leaving unnamed ones and other messages alone', () => {
    const cases: Array<[Buffer, Buffer]> = [
      [serialize.parse({ name: 'S_1', text: 'select 1', types: [] }), serialize.parse({ name: 's7.S_1', text: 'select 1', types: [] })],
      [serialize.bind({ portal: 'C_1', statement: 'S_1', values: ['x'] }), serialize.bind({ portal: 's7.C_1', statement: 's7.S_1', values: ['x'] })],
      [serialize.bind({ portal: '', statement: 'S_1' }), serialize.bind({ portal: '', statement: 's7.S_1' })],
      [serialize.describe({ type: 'S', name: 'S_1' }), serialize.describe({ type: 'S', name: 's7.S_1' })],
      [serialize.close({ type: 'P', name: 'C_1' }), serialize.close({ type: 'P', name: 's7.C_1' })],
      [serialize.execute({ portal: 'C_1', rows: 50 }), serialize.execute({ portal: 's7.C_1', rows: 50 })],
      [serialize.parse({ name: '', text: 'select 2', types: [] }), serialize.parse({ name: '', text: 'select 2', types: [] })],
      [serialize.query('select 3'), serialize.query('select 3')],
      [serialize.sync(), serialize.sync()],
    ];
    for (const [input, expected] of cases) expect(scopeNames(input, 's7.')).toEqual(expected);
  });

  it('accepts the md5 answer to its salt until VALID UNTIL, then refuses it as expired', () => {
    const salt = Buffer.from([1, 2, 3, 4]);
    const inner = createHash('md5').update('pw' + 'IAM:analyst').digest('hex');
    const answer = Buffer.from(`md5${createHash('md5').update(inner).update(salt).digest('hex')}`);
    const issued = { password: 'pw', validUntil: new Date('2030-01-01T00:00:10Z') };
    expect(checkMd5Password('IAM:analyst', answer, salt, issued, new Date('2030-01-01T00:00:09Z')).ok).toBe(true);
    expect(checkMd5Password('IAM:analyst', answer, salt, issued, new Date('2030-01-01T00:00:10Z')))
      .toEqual({ ok: false, reason: 'password expired at 2030-01-01T00:00:10.000Z' });
    expect(checkMd5Password('IAM:analyst', answer, Buffer.from([4, 3, 2, 1]), issued, new Date('2030-01-01T00:00:09Z')))
      .toEqual({ ok: false, reason: 'wrong password' });
    expect(checkMd5Password('IAM:analyst', answer, salt, undefined).ok).toBe(false);
  });
});
