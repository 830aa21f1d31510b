/**
 * The executable's commands against the test stack: `check` (every step ✓, or ✗ with the fix and exit 1),
 * `creds` (credentials a client can really log in with, in three formats), and `start --config` with two TCP
 * listeners used by two clients at once plus a Unix-socket listener, with readable logs on request.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withClient } from '../support/clients.js';
import { startStack, TEST_CLUSTER, TEST_REGION } from '../support/stack.js';
import type { Stack } from '../support/stack.js';
import { listeningPorts, runCli, stackArgs } from './cli-process.js';

let stack: Stack;
const dir = mkdtempSync(path.join(tmpdir(), 'rap-cli-'));

beforeAll(async () => {
  stack = await startStack();
});

afterAll(async () => {
  await stack?.stop();
});

function noPasswordIn(...texts: string[]): void {
  expect(stack.issuedPasswords.length).toBeGreaterThan(0);
  for (const pw of stack.issuedPasswords) for (const t of texts) expect(t).not.toContain(pw);
}

describe('check', () => {
  it('passes every step against a working target and exits 0', async () => {
    const p = runCli(['check', ...stackArgs(stack), '--user', 'doctor']);
    expect(await p.exit, p.stdout() + p.stderr()).toBe(0);
    const lines = p.stdout().split('\n');
    for (const step of ['AWS identity', 'temporary credentials', 'Redshift endpoint', 'TLS connection and login',
      'select current_user, version()']) {
      expect(lines.some((l) => l.startsWith(`✓ ${step}: `)), `${step} in\n${p.stdout()}`).toBe(true);
    }
    expect(p.stdout()).toMatch(/✓ AWS identity: environment variables \(AWS_ACCESS_KEY_ID\): long-term access key AKIATEST…/);
    expect(p.stdout()).toMatch(/current_user = IAMA:doctor; version\(\) = PostgreSQL/);
    noPasswordIn(p.stdout(), p.stderr());
    // The AWS SDK's Node-version notice (8 lines on Node 20) is off on the runtimes we support.
    expect(p.stderr()).not.toMatch(/NodeVersionSupportWarning|will require node/);
  });

  it('fails at the broken step with the fix, skips the rest, and exits 1', async () => {
    const args = stackArgs(stack).map((a) => (a === TEST_CLUSTER ? 'missing-cluster' : a));
    const p = runCli(['check', ...args, '--user', 'doctor']);
    expect(await p.exit, p.stdout() + p.stderr()).toBe(1);
    expect(p.stdout(), p.stderr()).toMatch(/✓ AWS identity/);
    expect(p.stdout()).toMatch(/✓ AWS identity/);
    expect(p.stdout()).toMatch(/✗ temporary credentials: .*missing-cluster[^]*\n {4}fix: /);
    expect(p.stdout()).toMatch(/· TLS connection and login: skipped/);
    expect(p.stdout()).toMatch(/check failed/);
  });
});

describe('creds', () => {
  async function loginWith(config: pg.ClientConfig): Promise<string> {
    const c = new pg.Client(config);
    await c.connect();
    try {
      return (await c.query('select current_user as u')).rows[0].u as string;
    } finally {
      await c.end();
    }
  }

  it('prints a URL that logs in to Redshift directly with verified TLS', async () => {
    const p = runCli(['creds', ...stackArgs(stack), '--db-user', 'creds_url']);
    expect(await p.exit, p.stderr()).toBe(0);
    const url = p.stdout().trim();
    expect(url).toMatch(/^postgresql:\/\/IAMA%3Acreds_url:[^@]+@localhost:\d+\/dev\?sslmode=verify-full&sslrootcert=/);
    expect(await loginWith({ connectionString: url })).toBe('IAMA:creds_url');
    expect(p.stderr()).toMatch(/# valid until /);
    noPasswordIn(p.stderr());
  });

  it('prints env lines and JSON with the same credentials', async () => {
    const env = runCli(['creds', ...stackArgs(stack), '--db-user', 'creds_env', '--format', 'env']);
    expect(await env.exit, env.stderr()).toBe(0);
    const vars = Object.fromEntries(env.stdout().trim().split('\n').map((l) => {
      const at = l.indexOf('=');
      return [l.slice(0, at), l.slice(at + 1).replace(/^'(.*)'$/, '$1')];
    }));
    expect(Object.keys(vars)).toEqual(['PGHOST', 'PGPORT', 'PGDATABASE', 'PGUSER', 'PGPASSWORD', 'PGSSLMODE', 'PGSSLROOTCERT']);
    const tls = { ca: readFileSync(stack.bed.caCertPath, 'utf8'), rejectUnauthorized: true };
    expect(await loginWith({ host: vars.PGHOST, port: Number(vars.PGPORT), database: vars.PGDATABASE, user: vars.PGUSER,
      password: vars.PGPASSWORD, ssl: tls })).toBe('IAMA:creds_env');
    const json = runCli(['creds', ...stackArgs(stack), '--db-user', 'creds_json', '--format', 'json']);
    expect(await json.exit, json.stderr()).toBe(0);
    const c = JSON.parse(json.stdout()) as { host: string; port: number; database: string; user: string; password: string; expiresAt: string };
    expect(new Date(c.expiresAt).getTime()).toBeGreaterThan(Date.now());
    expect(await loginWith({ ...c, ssl: tls })).toBe('IAMA:creds_json');
  });
});

describe('start --config', () => {
  it('serves two TCP listeners to two clients at once, and a Unix socket, each as its own database user', async () => {
    const socketDir = mkdtempSync(path.join(tmpdir(), 'rap-sock-'));
    const target = (dbUser: string): string => `
    target:
      upstream: localhost:${stack.bed.port}
      clusterId: ${TEST_CLUSTER}
      region: ${TEST_REGION}
      awsEndpointUrl: ${stack.emulator.url}
      caFile: ${stack.bed.caCertPath}
      autoCreate: true
      dbUser: ${dbUser}`;
    const file = path.join(dir, 'two.yaml');
    writeFileSync(file, `logFormat: json
listeners:
  - name: alpha
    listen: 127.0.0.1:0${target('alpha_user')}
  - name: beta
    listen: 127.0.0.1:0${target('beta_user')}
  - name: socket
    unixSocket: ${socketDir}/.s.PGSQL.5439${target('socket_user')}
`);
    const p = runCli(['--config', file]);
    const ports = await listeningPorts(p, 3);
    const who = (port: number, user: string) => withClient(port, user, async (c) => {
      const r = await c.query('select current_user as u, pg_sleep(0.3)');
      return r.rows[0].u as string;
    });
    const [a, b] = await Promise.all([who(ports.get('alpha') as number, 'anyone'), who(ports.get('beta') as number, 'anyone')]);
    expect([a, b]).toEqual(['IAMA:alpha_user', 'IAMA:beta_user']);
    const viaSocket = new pg.Client({ host: socketDir, port: 5439, user: 'anyone', database: 'dev' });
    await viaSocket.connect();
    expect((await viaSocket.query('select current_user as u')).rows[0].u).toBe('IAMA:socket_user');
    await viaSocket.end();
    expect(p.stderr()).toMatch(/ready: connect with psql \\"host=[^ ]*rap-sock-[^ ]* port=5439 dbname=dev user=socket_user\\"/);
    p.child.kill('SIGTERM');
    expect(await p.exit).toBe(143);
    noPasswordIn(p.stderr());
  });

  it('writes readable lines with --log-format pretty and names the file\'s line on a bad config', async () => {
    const p = runCli(['--listen', '127.0.0.1:0', ...stackArgs(stack).slice(0, -2), '--log-format', 'pretty']);
    await p.waitForStderr(/INFO: ready: connect with psql/);
    expect(p.stderr()).not.toMatch(/^\{"level"/m);
    p.child.kill('SIGTERM');
    expect(await p.exit).toBe(143);
    const bad = path.join(dir, 'bad.yaml');
    writeFileSync(bad, 'listeners:\n  - listen: 127.0.0.1:0\n    target:\n      clusterId: x\n      duration: 10\n');
    const b = runCli(['--config', bad]);
    expect(await b.exit).toBe(2);
    expect(b.stderr()).toMatch(/bad\.yaml:5: listeners\[0\]\.target\.duration must be 900–3600/);
  });
});
