/**
 * `login`, `status` and `logout` through the real CLI parser and the real SDK clients against the emulator: a
 * machine with no AWS CLI, a profile with only sso_session lines, the test browser as BROWSER.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { main } from '../../src/cli.js';
import { runLogin } from '../../src/commands/login.js';
import { runLogout } from '../../src/commands/logout.js';
import { runStatus } from '../../src/commands/status.js';
import { configFromFlags } from '../../src/config/from-flags.js';
import { MemoryDataPlane } from '../../src/emulator/memory-data-plane.js';
import { startEmulator } from '../../src/emulator/server.js';
import type { Emulator } from '../../src/emulator/types.js';
import { profileSignIn, tokenPath } from '../../src/signin/index.js';
import { ssoSessionProfile, useAwsEnv } from '../support/aws-env.js';
import type { AwsEnv } from '../support/aws-env.js';

const START_URL = 'https://corp.awsapps.com/start';
const BROWSER = `${process.execPath} ${path.join(import.meta.dirname, '../support/test-browser.mjs')}`;

let emulator: Emulator;
let env: AwsEnv | undefined;

beforeAll(async () => {
  emulator = await startEmulator({ principals: [], dataPlane: new MemoryDataPlane(),
    identityCenter: { users: [{ userName: 'alice@example.com', accountId: '123456789012', roleName: 'Analyst' }] } });
});

afterAll(async () => {
  await emulator?.close();
});

afterEach(() => {
  env?.restore();
  env = undefined;
  delete process.env.BROWSER;
  delete process.env.TEST_BROWSER_LOG;
});

function capture(): { out: string[]; err: string[]; io: { out: (l: string) => void; err: (l: string) => void } } {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, io: { out: (l) => out.push(l), err: (l) => err.push(l) } };
}

function setUp(): string {
  env = useAwsEnv({ config: ssoSessionProfile('analytics', 'corp', START_URL),
    vars: { AWS_ENDPOINT_URL_SSO: emulator.url, AWS_ENDPOINT_URL_SSO_OIDC: emulator.url } });
  const log = path.join(mkdtempSync(path.join(tmpdir(), 'rap-browser-')), 'opened.log');
  writeFileSync(log, '');
  Object.assign(process.env, { BROWSER, TEST_BROWSER_LOG: log });
  return log;
}

const config = () => configFromFlags({ profile: 'analytics', awsEndpointUrl: emulator.url, region: 'us-east-1', listen: '127.0.0.1:6543' });

describe('login, status, logout', () => {
  it('login signs in in the browser; status names the person and the listener; logout ends it at the portal', async () => {
    const log = setUp();
    const login = capture();
    expect(await runLogin(config(), login.io)).toBe(0);
    expect(login.err.join('\n')).toContain('Your browser has been opened to sign in to IAM Identity Center');
    expect(login.out).toEqual([expect.stringMatching(new RegExp(
      `^Signed in to ${START_URL} \\(profile "analytics" \\(sso-session "corp"\\)\\) until \\S+Z; renewed automatically before then$`))]);
    expect(readFileSync(log, 'utf8').trim().split('\n')).toHaveLength(1);
    const file = tokenPath(profileSignIn('analytics').target);
    const token = (JSON.parse(readFileSync(file, 'utf8')) as { accessToken: string }).accessToken;

    const status = capture();
    expect(await runStatus(config(), status.io)).toBe(0);
    expect(status.out[1]).toMatch(/^ {2}signed in as alice@example.com \(arn:aws:sts::123456789012:assumed-role\/AWSReservedSSO_Analyst_[0-9a-f]{16}\/alice@example.com\) — token valid until \S+Z; renewed automatically/);
    expect(status.out[2]).toBe('  used by: 127.0.0.1:6543');
    expect(status.out.join('\n')).not.toContain(token);

    const logout = capture();
    const calls = emulator.calls.Logout;
    expect(await runLogout(config(), logout.io)).toBe(0);
    expect(emulator.calls.Logout).toBe(calls + 1);
    expect(emulator.identityCenter.validateToken(token)).toBeUndefined();
    expect(existsSync(file)).toBe(false);
    const after = capture();
    expect(await runStatus(config(), after.io)).toBe(1);
    expect(after.out[1]).toContain('not signed in — run: redshift-auth-proxy login --profile analytics');
  });

  it('login --no-browser prints the device URL and code (the AWS CLI\'s words) and finishes once confirmed', async () => {
    setUp();
    const { execFile } = await import('node:child_process');
    const io = capture();
    const pending = runLogin({ ...config(), noBrowser: true }, { out: io.io.out, err: (l) => {
      io.err.push(l);
      const url = /(http:\/\/\S+\/device\?user_code=\S+)/.exec(l)?.[1];
      if (url) execFile(process.execPath, [path.join(import.meta.dirname, '../support/test-browser.mjs'), url]);
    } });
    expect(await pending).toBe(0);
    expect(io.err.join('\n')).toMatch(/To sign in, open this URL on any device:\n\nhttp:\S+\/device\?user_code=[A-Z]{4}-[A-Z]{4}\n\nand confirm the code:\n\n[A-Z]{4}-[A-Z]{4}/);
  });

  it('through the CLI: login needs no Redshift endpoint; --sso-start-url without --sso-region is bad usage', async () => {
    setUp();
    expect(await main(['login', '--sso-start-url', START_URL])).toBe(2);
    expect(await main(['login', '--sso-start-url', START_URL, '--sso-region', 'us-east-1', '--aws-endpoint-url', emulator.url])).toBe(0);
    expect(existsSync(tokenPath({ startUrl: START_URL, region: 'us-east-1', scopes: ['sso:account:access'] }))).toBe(true);
  });

  it('a profile that does not use IAM Identity Center: login says so and exits 1', async () => {
    env = useAwsEnv({ config: '[profile keys]\nregion = us-east-1\n' });
    const io = capture();
    expect(await runLogin(configFromFlags({ profile: 'keys' }), io.io)).toBe(1);
    expect(io.err[0]).toContain('does not sign in through IAM Identity Center');
  });
});
