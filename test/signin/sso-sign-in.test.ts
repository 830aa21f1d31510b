/**
 * The sign-in against the emulator's IAM Identity Center through the real SSOOIDCClient, with the test browser as
 * BROWSER: the browser flow, the device flow, refresh, refusals, one sign-in for many callers — and the token file
 * the AWS CLI would have written, which the SDK's own fromSSO provider then uses for GetRoleCredentials.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fromSSO } from '@aws-sdk/credential-providers';
import { MemoryDataPlane } from '../../src/emulator/memory-data-plane.js';
import { startEmulator } from '../../src/emulator/server.js';
import type { Emulator } from '../../src/emulator/types.js';
import { SignInFailedError, SignInRequiredError, SsoSignIn, profileSignIn } from '../../src/signin/index.js';
import type { SignInPrompt, SignInTarget } from '../../src/signin/index.js';
import { registrationPath, tokenPath } from '../../src/signin/token-cache.js';
import { legacySsoProfile, ssoSessionProfile, useAwsEnv } from '../support/aws-env.js';
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

const BROWSER_VARIABLES = ['BROWSER', 'TEST_BROWSER_DECISION', 'TEST_BROWSER_LOG', 'TEST_BROWSER_USER'];

afterEach(() => {
  env?.restore();
  env = undefined;
  // useAwsEnv puts back AWS_* and HOME only; the browser's variables are this file's to clear.
  for (const name of BROWSER_VARIABLES) delete process.env[name];
});

/** A home with the `corp` sso-session profile, the test browser as BROWSER, the emulator as the SSO/OIDC endpoint. */
function home(vars: Record<string, string> = {}): { env: AwsEnv; target: SignInTarget; browserLog: string } {
  const browserLog = path.join(mkdtempSync(path.join(tmpdir(), 'rap-browser-')), 'opened.log');
  writeFileSync(browserLog, '');
  env = useAwsEnv({ config: ssoSessionProfile('analytics', 'corp', START_URL),
    vars: { AWS_ENDPOINT_URL_SSO_OIDC: emulator.url, AWS_ENDPOINT_URL_SSO: emulator.url, BROWSER,
      TEST_BROWSER_LOG: browserLog, ...vars } });
  return { env, target: profileSignIn('analytics').target, browserLog };
}

function opened(log: string): string[] {
  return readFileSync(log, 'utf8').split('\n').filter((l) => l !== '');
}

describe('the browser flow (authorization code with PKCE)', () => {
  it('writes the AWS CLI token file, which the SDK\'s fromSSO uses for GetRoleCredentials', async () => {
    const { target, browserLog } = home();
    expect(target).toEqual({ startUrl: START_URL, region: 'us-east-1', scopes: ['sso:account:access'], sessionName: 'corp' });
    const prompts: SignInPrompt[] = [];
    const signIn = new SsoSignIn({ onPrompt: (_t, p) => prompts.push(p) });
    const token = await signIn.accessToken(target);
    expect(emulator.identityCenter.validateToken(token.accessToken, 'sso:account:access')?.userName).toBe('alice@example.com');
    const [url] = opened(browserLog);
    expect(url).toMatch(new RegExp(`^${emulator.url}/authorize\\?response_type=code&client_id=[^&]+&redirect_uri=http%3A%2F%2F127\\.0\\.0\\.1%3A\\d+%2Foauth%2Fcallback&state=[\\w-]{22}&code_challenge_method=S256&code_challenge=[\\w-]{43}&scopes=sso%3Aaccount%3Aaccess$`));
    expect(prompts).toEqual([expect.objectContaining({ url, browserOpened: true })]);
    // The CLI's file: sha1 of the session name, 0600, the fields the SDK reads to use and to refresh it.
    const file = path.join(env?.home ?? '', '.aws', 'sso', 'cache', `${createHash('sha1').update('corp').digest('hex')}.json`);
    expect(tokenPath(target)).toBe(file);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const cached = JSON.parse(readFileSync(file, 'utf8')) as Record<string, string>;
    expect(Object.keys(cached).sort()).toEqual(['accessToken', 'clientId', 'clientSecret', 'expiresAt', 'refreshToken',
      'region', 'registrationExpiresAt', 'startUrl']);
    expect(cached).toMatchObject({ startUrl: START_URL, region: 'us-east-1', accessToken: token.accessToken });
    expect(cached.expiresAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    // The registration's file name is the AWS CLI v2's, computed here from the literal JSON it hashes.
    const cliKey = '{"region": "us-east-1", "scopes": ["sso:account:access"], "session_name": "corp", "startUrl": "https://corp.awsapps.com/start", "tool": "botocore"}';
    expect(registrationPath(target)).toBe(path.join(path.dirname(file), `${createHash('sha1').update(cliKey).digest('hex')}.json`));
    expect(JSON.parse(readFileSync(registrationPath(target), 'utf8'))).toMatchObject({ clientId: cached.clientId,
      grantTypes: ['authorization_code', 'refresh_token'], scopes: ['sso:account:access'] });
    const creds = await fromSSO({ profile: 'analytics' })();
    expect(creds.accessKeyId).toMatch(/^ASIA/);
    // Asked again: the cached token, no second browser tab.
    expect((await signIn.accessToken(target)).accessToken).toBe(token.accessToken);
    expect(opened(browserLog)).toHaveLength(1);
  });

  it('ten callers at once share one sign-in: one browser tab, one approval, one token', async () => {
    const { target, browserLog } = home();
    const before = emulator.identityCenter.approvals;
    const signIn = new SsoSignIn();
    const tokens = await Promise.all(Array.from({ length: 10 }, () => signIn.accessToken(target)));
    expect(new Set(tokens.map((t) => t.accessToken)).size).toBe(1);
    expect(opened(browserLog)).toHaveLength(1);
    expect(emulator.identityCenter.approvals).toBe(before + 1);
    expect(signIn.signIns).toBe(1);
  });

  it('refused in the browser: every caller gets SignInFailedError (denied) and nothing is cached', async () => {
    const { target } = home({ TEST_BROWSER_DECISION: 'deny' });
    const signIn = new SsoSignIn();
    const results = await Promise.allSettled([signIn.accessToken(target), signIn.accessToken(target)]);
    for (const r of results) {
      expect(r.status).toBe('rejected');
      const reason = (r as PromiseRejectedResult).reason as SignInFailedError;
      expect(reason).toBeInstanceOf(SignInFailedError);
      expect(reason.reason).toBe('denied');
    }
    expect(existsSync(tokenPath(target))).toBe(false);
  });

  it('a callback with the wrong state is refused and the sign-in carries on', async () => {
    const { target } = home({ TEST_BROWSER_DECISION: 'ignore' });
    let prompt: SignInPrompt | undefined;
    let prompted: () => void = () => undefined;
    const shown = new Promise<void>((resolve) => { prompted = resolve; });
    const signIn = new SsoSignIn({ onPrompt: (_t, p) => { prompt = p; prompted(); } });
    const token = signIn.accessToken(target);
    await shown;
    const authorize = new URL(prompt?.url ?? '');
    const callback = authorize.searchParams.get('redirect_uri') ?? '';
    const forged = await fetch(`${callback}?code=stolen&state=not-the-state`);
    expect(forged.status).toBe(400);
    expect(signIn.pending(target)).toBeDefined();
    // The person now approves the page the proxy opened: the real callback arrives and the sign-in completes.
    const { execFile } = await import('node:child_process');
    await new Promise<void>((resolve, reject) => execFile(process.execPath,
      [path.join(import.meta.dirname, '../support/test-browser.mjs'), authorize.toString()],
      { env: { ...process.env, TEST_BROWSER_DECISION: 'allow' } }, (err) => (err ? reject(err) : resolve())));
    expect(emulator.identityCenter.validateToken((await token).accessToken)).toBeDefined();
  });
});

describe('the device flow (--no-browser)', () => {
  it('prints the code and URL; confirmed on another device, the token arrives', async () => {
    const { target, browserLog } = home();
    const signIn = new SsoSignIn({ noBrowser: true, onPrompt: (_t, p) => {
      expect(p).toMatchObject({ browserOpened: false, userCode: expect.stringMatching(/^[A-Z]{4}-[A-Z]{4}$/) as unknown });
      // "Another device": the test browser, started by the test rather than by the proxy.
      void import('node:child_process').then(({ execFile }) => execFile(process.execPath,
        [path.join(import.meta.dirname, '../support/test-browser.mjs'), p.url], { env: { ...process.env, TEST_BROWSER_LOG: '' } }));
    } });
    const token = await signIn.accessToken(target);
    expect(emulator.identityCenter.validateToken(token.accessToken)?.userName).toBe('alice@example.com');
    expect(opened(browserLog)).toEqual([]);
    expect(JSON.parse(readFileSync(registrationPath(target), 'utf8')).grantTypes)
      .toEqual(['urn:ietf:params:oauth:grant-type:device_code', 'refresh_token']);
  });

  it('no browser can be opened: the device flow takes over', async () => {
    const { target } = home({ BROWSER: '/nonexistent/browser' });
    let prompt: SignInPrompt | undefined;
    const signIn = new SsoSignIn({ onPrompt: (_t, p) => {
      prompt = p;
      void import('node:child_process').then(({ execFile }) => execFile(process.execPath,
        [path.join(import.meta.dirname, '../support/test-browser.mjs'), p.url]));
    } });
    await signIn.accessToken(target);
    expect(prompt).toMatchObject({ browserOpened: false, url: expect.stringContaining('/device?user_code=') as unknown });
  });
});

describe('refresh', () => {
  it('a token inside the 5-minute window is refreshed with the refresh token (rotated in the file); no browser', async () => {
    const { target, browserLog } = home();
    const signIn = new SsoSignIn();
    const first = await signIn.accessToken(target);
    const file = tokenPath(target);
    const before = JSON.parse(readFileSync(file, 'utf8')) as Record<string, string>;
    writeFileSync(file, JSON.stringify({ ...before, expiresAt: new Date(Date.now() + 60_000).toISOString() }));
    const second = await signIn.accessToken(target);
    expect(second.accessToken).not.toBe(first.accessToken);
    const after = JSON.parse(readFileSync(file, 'utf8')) as Record<string, string>;
    expect(after.refreshToken).not.toBe(before.refreshToken);
    expect(Date.parse(after.expiresAt ?? '')).toBeGreaterThan(Date.now() + 3_500_000);
    expect(opened(browserLog)).toHaveLength(1);
  });

  it('an expired token whose refresh is refused (revoked): a new sign-in, or SignInRequiredError when not interactive', async () => {
    const { target, browserLog } = home();
    const signIn = new SsoSignIn();
    await signIn.accessToken(target);
    emulator.identityCenter.revoke('alice@example.com');
    const file = tokenPath(target);
    writeFileSync(file, JSON.stringify({ ...JSON.parse(readFileSync(file, 'utf8')), expiresAt: new Date(Date.now() - 1000).toISOString() }));
    await expect(signIn.accessToken(target, { interactive: false })).rejects.toBeInstanceOf(SignInRequiredError);
    const fresh = await signIn.accessToken(target);
    expect(emulator.identityCenter.validateToken(fresh.accessToken)).toBeDefined();
    expect(opened(browserLog)).toHaveLength(2);
  });
});

describe('profiles', () => {
  it('a legacy profile signs in by its start URL; its token file is sha1(start URL), as the SDK reads it', () => {
    env = useAwsEnv({ config: legacySsoProfile('old', START_URL) });
    const { target } = profileSignIn('old');
    expect(target).toEqual({ startUrl: START_URL, region: 'us-east-1', scopes: ['sso:account:access'] });
    expect(path.basename(tokenPath(target))).toBe(`${createHash('sha1').update(START_URL).digest('hex')}.json`);
  });

  it('a profile without IAM Identity Center says so', () => {
    env = useAwsEnv({ config: '[profile keys]\nregion = us-east-1\n' });
    expect(() => profileSignIn('keys')).toThrow(/does not sign in through IAM Identity Center/);
    expect(() => profileSignIn('missing')).toThrow(/profile "missing" is not in/);
  });
});
