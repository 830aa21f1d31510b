/**
 * Redshift's own IAM Identity Center login through the proxy, against the IdC stand-in in front of real
 * PostgreSQL: a client with no password and no AWS knowledge runs as AWSIDC:<person>; no credential API is called;
 * refused tokens give 28000 with a hint and are dropped; healing and --warm log in the same way; no token is logged.
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type pg from 'pg';
import { pgClient, withClient } from '../support/clients.js';
import { IDC_USER, startIdcStack } from '../support/idc-stack.js';
import type { IdcStack } from '../support/idc-stack.js';
import type { IdcRedshiftEvent } from '../../src/emulator/idc-redshift.js';
import { runCheck } from '../../src/commands/check.js';
import type { Config, TargetConfig } from '../../src/config/config.js';

let stack: IdcStack;

beforeAll(async () => {
  stack = await startIdcStack();
});

afterAll(async () => {
  await stack?.stop();
});

/** The error a connection attempt through `port` ends with. */
async function refusal(port: number): Promise<pg.DatabaseError> {
  const c = pgClient(port, 'analyst');
  try {
    await c.connect();
  } catch (err) {
    return err as pg.DatabaseError;
  } finally {
    await c.end().catch(() => undefined);
  }
  throw new Error('the connection was accepted');
}

const logins = (): Extract<IdcRedshiftEvent, { kind: 'login' }>[] =>
  stack.standIn.events.filter((e): e is Extract<IdcRedshiftEvent, { kind: 'login' }> => e.kind === 'login');
const refusals = (): Extract<IdcRedshiftEvent, { kind: 'refused' }>[] =>
  stack.standIn.events.filter((e): e is Extract<IdcRedshiftEvent, { kind: 'refused' }> => e.kind === 'refused');

/** Resolves once the proxy has logged `count` heals in total. */
async function healsLogged(count: number): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (stack.logs.lines.filter((l) => l.includes('session healed')).length < count) {
    if (Date.now() > deadline) throw new Error(`expected ${count} heals; log:\n${stack.logs.text.slice(-2000)}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('an Identity Center listener', () => {
  it('logs a client with no password in as AWSIDC:<person>, with no credential API call', async () => {
    const row = await withClient(stack.port, 'whoever-the-tool-says', async (c) =>
      (await c.query('select current_user as u, session_user as s')).rows[0] as { u: string; s: string });
    expect(row).toEqual({ u: `AWSIDC:${IDC_USER}`, s: `AWSIDC:${IDC_USER}` });
    expect(stack.emulator.calls.GetClusterCredentials + stack.emulator.calls.GetClusterCredentialsWithIAM
      + stack.emulator.calls.GetCredentials).toBe(0);
    const login = logins().at(-1);
    expect(login?.tls).toMatch(/^TLSv1\.[23]$/);
    const startup = login?.startup as ReadonlyMap<string, string>;
    expect(startup.get('idp_type')).toBe('AwsIdc');
    expect(startup.get('token_type')).toBe('ACCESS_TOKEN');
    expect(startup.get('plugin_name')).toBe('redshift-auth-proxy');
    expect(startup.has('user')).toBe(false);
    expect(startup.get('database')).toBe('dev');
    // The wire of that login, as the stand-in saw it (types and lengths; the 'i' length is the token's plus 5).
    const wire = login?.wire.map((w) => `${w.from}:${w.message}`);
    expect(wire?.slice(0, 6)).toEqual(['client:SSLRequest', 'server:S', 'client:StartupMessage', 'server:R(14)', 'client:i', 'server:R(0)']);
    expect(login?.wire.find((w) => w.message === 'R(14)')?.length).toBe(8);
    const tokenLength = (await readFile(stack.tokenFile, 'utf8')).trim().length;
    expect(login?.wire.find((w) => w.message === 'i')?.length).toBe(4 + tokenLength + 1);
    expect(wire?.at(-1)).toBe('server:Z');
  });

  it('a second and a tenth client reuse the same token: the command ran once', async () => {
    const counter = path.join(path.dirname(stack.tokenFile), 'runs');
    await writeFile(counter, '');
    const proxy = await stack.startProxy({ idcTokenCommand: `echo run >> '${counter}'; ${stack.tokenCommand}` });
    const port = proxy.addresses[0]?.port as number;
    const users = await Promise.all(Array.from({ length: 10 }, (_, i) => withClient(port, `tool${i}`, async (c) =>
      (await c.query('select current_user as u')).rows[0].u as string)));
    expect(new Set(users)).toEqual(new Set([`AWSIDC:${IDC_USER}`]));
    expect((await readFile(counter, 'utf8')).trim().split('\n')).toEqual(['run']);
  });

  it('an expired token ends in 28000 with a hint, is dropped, and the next token is used at once', async () => {
    const proxy = await stack.startProxy();
    const port = proxy.addresses[0]?.port as number;
    await withClient(port, 'analyst', (c) => c.query('select 1'));
    stack.emulator.identityCenter.expireAccessTokens();
    const before = refusals().length;
    const err = await refusal(port);
    expect(err.code).toBe('28000');
    expect(err.message).toBe('Redshift refused the IAM Identity Center token');
    expect(err.detail).toBe('Redshift said: Token credentials expired or invalid');
    expect(err.hint).toMatch(/--idc-token-command prints a current IAM Identity Center access token/);
    // Refused, dropped, fetched again (the command still printed the expired one), refused again: two attempts.
    expect(refusals().length - before).toBe(2);
    await stack.setCommandOutput(await stack.issueToken());
    const user = await withClient(port, 'analyst', async (c) => (await c.query('select current_user as u')).rows[0].u as string);
    expect(user).toBe(`AWSIDC:${IDC_USER}`);
  });

  it('a foreign token and a token without redshift:connect are refused as Redshift refuses them', async () => {
    const proxy = await stack.startProxy();
    const port = proxy.addresses[0]?.port as number;
    await stack.setCommandOutput('eyJmb3JlaWduIjoidG9rZW4ifQ.not-issued-here.x');
    const foreign = await refusal(port);
    expect([foreign.code, foreign.detail]).toEqual(['28000', 'Redshift said: Token credentials expired or invalid']);
    await stack.setCommandOutput(await stack.issueToken(['sso:account:access']));
    const unscoped = await refusal(port);
    expect(unscoped.code).toBe('28000');
    expect(unscoped.message).toMatch(/your Identity Center user may not connect to this cluster/);
    expect(unscoped.detail).toBe('Redshift said: Invalid scope. User\'s credentials are not authorized to connect to Amazon Redshift');
    expect(unscoped.hint).toMatch(/assign your Identity Center user/);
    await stack.setCommandOutput(await stack.issueToken());
  });

  it('a namespace the cluster does not have is refused with the fix', async () => {
    const proxy = await stack.startProxy({ idcNamespace: 'corp' });
    const err = await refusal(proxy.addresses[0]?.port as number);
    expect([err.code, err.message]).toEqual(['28000', 'AWS IdC identity provider does not exist']);
    expect(err.hint).toMatch(/Identity Center is not set up for this cluster or workgroup \(or for this --idc-namespace\)/);
  });

  it('a command that fails says so, with what it printed on stderr', async () => {
    const proxy = await stack.startProxy({ idcTokenCommand: 'echo "aws: token expired, run aws sso login" >&2; exit 3' });
    const err = await refusal(proxy.addresses[0]?.port as number);
    expect(err.code).toBe('28000');
    expect(err.message).toBe('no IAM Identity Center token: --idc-token-command exited with status 3: aws: token expired, run aws sso login');
    expect(err.hint).toMatch(/Run the command yourself/);
  });

  it('a healed session logs in again with the current token', async () => {
    const c = pgClient(stack.port, 'healer');
    c.on('error', () => undefined);
    await c.connect();
    try {
      await c.query("set application_name = 'idc-healed'");
      const loginsBefore = logins().length;
      // The token in use expires and a new one is what the command prints now; then the cluster drops the session.
      stack.emulator.identityCenter.expireAccessTokens();
      await stack.setCommandOutput(await stack.issueToken());
      const heals = stack.logs.lines.filter((l) => l.includes('session healed')).length;
      stack.standIn.dropAll();
      await healsLogged(heals + 1);
      const r = await c.query("select current_user as u, current_setting('application_name') as app");
      expect(r.rows[0]).toEqual({ u: `AWSIDC:${IDC_USER}`, app: 'idc-healed' });
      expect(logins().length).toBeGreaterThan(loginsBefore);
      expect(stack.logs.text).toContain('session healed on a new upstream connection');
    } finally {
      await c.end().catch(() => undefined);
    }
  });

  it('--warm spares log in with the token too', async () => {
    const proxy = await stack.startProxy({}, { warm: 1 });
    const port = proxy.addresses[0]?.port as number;
    const pool = proxy.pools[0];
    const whoami = (): Promise<string> => withClient(port, 'analyst', async (c) => (await c.query('select current_user as u')).rows[0].u as string);
    expect(await whoami()).toBe(`AWSIDC:${IDC_USER}`);
    const deadline = Date.now() + 10_000;
    while ((pool?.size ?? 0) < 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    const hits = pool?.stats.hits ?? 0;
    expect(await whoami()).toBe(`AWSIDC:${IDC_USER}`);
    expect(pool?.stats.hits).toBe(hits + 1);
  });

  it('--idle-release: the session gives its connection back and reopens it with the token', async () => {
    const proxy = await stack.startProxy({}, { idleReleaseMs: 200 });
    const c = pgClient(proxy.addresses[0]?.port as number, 'dashboard');
    await c.connect();
    try {
      expect((await c.query('select current_user as u')).rows[0].u).toBe(`AWSIDC:${IDC_USER}`);
      const loginsBefore = logins().length;
      const deadline = Date.now() + 10_000;
      while (!stack.logs.text.includes('idle session released its upstream connection') && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 20));
      }
      expect(stack.logs.text).toContain('idle session released its upstream connection');
      expect((await c.query('select current_user as u')).rows[0].u).toBe(`AWSIDC:${IDC_USER}`);
      expect(logins().length).toBe(loginsBefore + 1);
    } finally {
      await c.end().catch(() => undefined);
    }
  });

  it('no token ever reached the log', () => {
    expect(stack.issuedTokens.length).toBeGreaterThan(3);
    for (const token of stack.issuedTokens) expect(stack.logs.text).not.toContain(token);
  });
});

describe('check on an Identity Center listener', () => {
  const check = async (target: Partial<TargetConfig> = {}): Promise<{ code: number; lines: string[] }> => {
    const config: Config = { listeners: [{ host: '127.0.0.1', port: 0, target: stack.target(target) }], startupTimeoutMs: 10_000,
      connectTimeoutMs: 5_000, maxStartupPacket: 10_000, logLevel: 'silent' };
    const lines: string[] = [];
    const code = await runCheck(config, { user: 'analyst' }, (l) => lines.push(l));
    return { code, lines };
  };

  it('walks token → endpoint → TLS and the code-14 login → select current_user, with no AWS step and no token shown', async () => {
    await stack.setCommandOutput(await stack.issueToken());
    const { code, lines } = await check();
    expect(lines.map((l) => l.slice(0, 2))).toEqual(['re', '✓ ', '✓ ', '✓ ', '✓ ', 'al']);
    expect(lines[1]).toMatch(/^✓ IAM Identity Center token \(--idc-token-command\): a token for IAM Identity Center user, valid until /);
    expect(lines[3]).toMatch(/^✓ TLS connection and Identity Center login: verified TLS to localhost:\d+, Redshift took the token \(code 14\) and logged in AWSIDC:alice@example.com to "dev"/);
    expect(lines[4]).toBe(`✓ select current_user: current_user = AWSIDC:${IDC_USER}`);
    expect(code).toBe(0);
    for (const token of stack.issuedTokens) expect(lines.join('\n')).not.toContain(token);
  });

  it('names the first failing step with its fix and skips the rest', async () => {
    const failing = await check({ idcTokenCommand: 'exit 1' });
    expect(failing.code).toBe(1);
    expect(failing.lines[1]).toMatch(/^✗ IAM Identity Center token \(--idc-token-command\): no IAM Identity Center token: --idc-token-command exited with status 1\n {4}fix: Run the command yourself/);
    expect(failing.lines.slice(2)).toEqual(['· Redshift endpoint: skipped', '· TLS connection and Identity Center login: skipped',
      '· select current_user: skipped', 'check failed']);
    stack.emulator.identityCenter.expireAccessTokens();
    const refused = await check();
    expect(refused.lines[3]?.split('\n')).toEqual(['✗ TLS connection and Identity Center login: Redshift refused the IAM Identity Center token',
      expect.stringMatching(/^ {4}fix: Check that --idc-token-command prints a current IAM Identity Center access token/),
      '    detail: Redshift said: Token credentials expired or invalid']);
    await stack.setCommandOutput(await stack.issueToken());
  });
});
