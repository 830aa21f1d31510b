/**
 * Sign-in on demand, end to end: a profile with only sso_session lines and nobody signed in; tools connect; the
 * proxy opens one sign-in (the test browser follows the URL and clicks), holds the startups, and they log in as the
 * person's permission set. Refusals, abandoned sign-ins and the device code reach each client as FATAL 28000 with
 * the URL and what to do.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { profileSignIn, tokenPath } from '../../src/signin/index.js';
import { ssoSessionProfile, useAwsEnv } from '../support/aws-env.js';
import type { AwsEnv } from '../support/aws-env.js';
import { withClient } from '../support/clients.js';
import { leakedSecrets, refusal } from '../support/refusals.js';
import { startStack, testPrincipal } from '../support/stack.js';
import type { Stack } from '../support/stack.js';
import type { Principal } from '../../src/emulator/index.js';

const START_URL = 'https://corp.awsapps.com/start';
const BROWSER_SCRIPT = path.join(import.meta.dirname, '../support/test-browser.mjs');
const BROWSER_VARIABLES = ['BROWSER', 'TEST_BROWSER_DECISION', 'TEST_BROWSER_LOG'];
const run = promisify(execFile);
/** An IAM user whose name Redshift would refuse as a user name (it begins with a digit). */
const digitUser: Principal = { accessKeyId: 'AKIADIGITUSER0000001', secretAccessKey: 'digit/user/secret/EXAMPLE00000000000001',
  arn: 'arn:aws:iam::123456789012:user/9lives' };

let stack: Stack;
let env: AwsEnv | undefined;
let browserLog: string;

beforeAll(async () => {
  stack = await startStack({
    principals: [testPrincipal, digitUser],
    identityCenter: { users: [{ userName: 'alice@example.com', accountId: '123456789012', roleName: 'Analyst',
      // The permission set's policy with `"redshift:DbUser": "${aws:userid}"`-style scoping: only her own DbUser.
      allow: (action, resource) => action !== 'redshift:GetClusterCredentials' || resource.includes(':dbname:')
        || resource.endsWith('/alice@example.com') }] },
  });
});

beforeEach(() => {
  browserLog = path.join(mkdtempSync(path.join(tmpdir(), 'rap-browser-')), 'opened.log');
  writeFileSync(browserLog, '');
  env = useAwsEnv({ config: ssoSessionProfile('analytics', 'corp', START_URL),
    vars: { AWS_ENDPOINT_URL_SSO: stack.emulator.url, AWS_ENDPOINT_URL_SSO_OIDC: stack.emulator.url } });
  Object.assign(process.env, { BROWSER: `${process.execPath} ${BROWSER_SCRIPT}`, TEST_BROWSER_LOG: browserLog });
});

afterEach(() => {
  env?.restore();
  env = undefined;
  for (const name of BROWSER_VARIABLES) delete process.env[name];
});

afterAll(async () => {
  await stack?.stop();
});

const opened = (): string[] => readFileSync(browserLog, 'utf8').split('\n').filter((l) => l !== '');
const currentUser = (port: number, user: string): Promise<string> =>
  withClient(port, user, async (c) => (await c.query('select current_user as u')).rows[0].u as string);

async function proxyPort(config: { signInWaitMs?: number; noBrowser?: boolean; startupTimeoutMs?: number } = {}): Promise<number> {
  const p = await stack.startProxy({ profile: 'analytics', withIam: true, autoCreate: false }, { signInWaitMs: 20_000, ...config });
  return p.addresses[0]?.port as number;
}

describe('one sign-in for every waiting tool', () => {
  it('ten tools connecting at once: one browser tab, one approval, all ten log in as the permission set', async () => {
    const port = await proxyPort();
    const before = stack.emulator.identityCenter.approvals;
    const users = await Promise.all(Array.from({ length: 10 }, (_, i) => currentUser(port, `tool${i}`)));
    expect(new Set(users).size).toBe(1);
    expect(users[0]).toMatch(/^IAMR:AWSReservedSSO_Analyst_[0-9a-f]{16}$/);
    expect(opened()).toHaveLength(1);
    expect(stack.emulator.identityCenter.approvals).toBe(before + 1);
    // The token is in the AWS CLI's cache; a later tool connects at once, without a browser.
    expect(existsSync(tokenPath(profileSignIn('analytics').target))).toBe(true);
    expect(await currentUser(port, 'later')).toBe(users[0]);
    expect(opened()).toHaveLength(1);
  });
});

describe('a sign-in that does not complete', () => {
  it('refused in the browser: each waiting tool gets 28000 saying so, and nothing is cached', async () => {
    process.env.TEST_BROWSER_DECISION = 'deny';
    const port = await proxyPort();
    const errors = await Promise.all([refusal(port, 'a'), refusal(port, 'b'), refusal(port, 'c')]);
    for (const e of errors) {
      expect(e).toMatchObject({ code: '28000', message: 'the IAM Identity Center sign-in for profile "analytics" was refused in the browser' });
      expect(e.hint).toContain('redshift-auth-proxy login --profile analytics');
    }
    expect(opened()).toHaveLength(1);
    expect(existsSync(tokenPath(profileSignIn('analytics').target))).toBe(false);
  });

  it('not finished within --sign-in-wait: 28000 names the URL; finishing it later lets the next connect in', async () => {
    process.env.TEST_BROWSER_DECISION = 'ignore';
    // The startup timeout is shorter than the sign-in wait: the wait holds the startup past it.
    const port = await proxyPort({ signInWaitMs: 2_500, startupTimeoutMs: 1_000 });
    const started = Date.now();
    const err = await refusal(port, 'impatient');
    const [url] = opened();
    expect(err.code, err.message).toBe('28000');
    expect(err.message).toBe(`sign in to IAM Identity Center to connect: open ${url}`);
    expect(err.hint).toContain('connect again');
    expect(Date.now() - started).toBeGreaterThanOrEqual(2_400);
    // The person now clicks "allow" on the page the proxy opened; the sign-in it was waiting for completes.
    await run(process.execPath, [BROWSER_SCRIPT, url ?? ''], { env: { ...process.env, TEST_BROWSER_DECISION: 'allow', TEST_BROWSER_LOG: '' } });
    await expect.poll(() => existsSync(tokenPath(profileSignIn('analytics').target)), { timeout: 10_000 }).toBe(true);
    expect(await currentUser(port, 'impatient')).toMatch(/^IAMR:AWSReservedSSO_Analyst_/);
    expect(opened()).toHaveLength(1);
  });

  it('--no-browser: 28000 at once with the device URL and code; confirmed elsewhere, the next connect succeeds', async () => {
    const port = await proxyPort({ noBrowser: true });
    const err = await refusal(port, 'headless');
    const m = /^sign in to IAM Identity Center to connect: open (\S+) and enter the code ([A-Z]{4}-[A-Z]{4})$/.exec(err.message);
    expect(m, err.message).not.toBeNull();
    expect(m?.[1]).toBe(`${stack.emulator.url}/device?user_code=${m?.[2]}`);
    expect(opened()).toEqual([]);
    await run(process.execPath, [BROWSER_SCRIPT, m?.[1] ?? ''], { env: { ...process.env, TEST_BROWSER_LOG: '' } });
    await expect.poll(() => existsSync(tokenPath(profileSignIn('analytics').target)), { timeout: 10_000 }).toBe(true);
    expect(await currentUser(port, 'headless')).toMatch(/^IAMR:AWSReservedSSO_Analyst_/);
  });

  it('--sign-in-wait 0: no sign-in on demand, the client is told to sign in', async () => {
    const port = await proxyPort({ signInWaitMs: 0 });
    const err = await refusal(port, 'off');
    expect(err).toMatchObject({ code: '28000' });
    expect(err.message).toContain('SSO session for profile "analytics"');
    expect(opened()).toEqual([]);
  });
});

describe('--db-user-from-identity: the person as the database user', () => {
  it('DbUser is the IdC user name from GetCallerIdentity, read once for the identity, with --auto-create', async () => {
    const p = await stack.startProxy({ profile: 'analytics', dbUserFromIdentity: true, autoCreate: true }, { signInWaitMs: 20_000 });
    const port = p.addresses[0]?.port as number;
    stack.emulator.resetCounters();
    const users = await Promise.all(['dbeaver', 'psql', 'dbt'].map((u) => currentUser(port, u)));
    expect(users).toEqual(['IAMA:alice@example.com', 'IAMA:alice@example.com', 'IAMA:alice@example.com']);
    expect(await currentUser(port, 'notebook')).toBe('IAMA:alice@example.com');
    expect(stack.emulator.calls.GetCallerIdentity).toBe(1);
    expect(stack.emulator.callLog.find((c) => c.action === 'GetClusterCredentials')?.params).toMatchObject({ DbUser: 'alice@example.com' });
  });

  it('a name Redshift would refuse is a clear 28000, not a rewritten user', async () => {
    env?.restore();
    env = useAwsEnv({ vars: { AWS_ACCESS_KEY_ID: digitUser.accessKeyId, AWS_SECRET_ACCESS_KEY: digitUser.secretAccessKey, AWS_REGION: 'us-east-1' } });
    const p = await stack.startProxy({ dbUserFromIdentity: true, autoCreate: true }, { signInWaitMs: 0 });
    const err = await refusal(p.addresses[0]?.port as number, 'anyone');
    expect(err).toMatchObject({ code: '28000', message: 'your AWS name "9lives" (from arn:aws:iam::123456789012:user/9lives) cannot be a Redshift database user name' });
    expect(err.hint).toContain('--db-user');
    expect(stack.emulator.callLog.some((c) => c.action === 'GetClusterCredentials' && c.caller === digitUser.arn)).toBe(false);
  });
});

describe('secrets', () => {
  it('no access token, refresh token or client secret reached the log', () => {
    const cacheFiles = stack.logs.text;
    const tokens = [...cacheFiles.matchAll(/ao[ar][\w-]{40,}/g)].map((m) => m[0]);
    expect(tokens).toEqual([]);
    expect(leakedSecrets([stack.logs.text], stack.issuedPasswords)).toEqual([]);
  });
});
