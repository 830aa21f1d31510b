/**
 * The emulator's IAM Identity Center against the real SDK clients: SSOOIDCClient (RegisterClient,
 * StartDeviceAuthorization, CreateToken for every grant), SSOClient (GetRoleCredentials, Logout) and STSClient
 * (GetCallerIdentity). The browser steps are taken by the test browser script, as a person's clicks would be.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash, randomBytes } from 'node:crypto';
import { execFile } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import {
  AccessDeniedException, AuthorizationPendingException, CreateTokenCommand, ExpiredTokenException,
  InvalidClientException, InvalidGrantException, RegisterClientCommand, SlowDownException, SSOOIDCClient,
  StartDeviceAuthorizationCommand,
} from '@aws-sdk/client-sso-oidc';
import { GetRoleCredentialsCommand, LogoutCommand, SSOClient, UnauthorizedException } from '@aws-sdk/client-sso';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { MemoryDataPlane } from '../../src/emulator/memory-data-plane.js';
import { startEmulator } from '../../src/emulator/server.js';
import type { Emulator } from '../../src/emulator/types.js';

const REGION = 'us-east-1';
const START_URL = 'https://corp.awsapps.com/start';
const BROWSER = path.join(import.meta.dirname, '../support/test-browser.mjs');
const run = promisify(execFile);

let emulator: Emulator;
let oidc: SSOOIDCClient;

beforeAll(async () => {
  emulator = await startEmulator({
    principals: [{ accessKeyId: 'AKIAUSEREXAMPLE00001', secretAccessKey: 'user-secret', arn: 'arn:aws:iam::123456789012:user/bob' }],
    dataPlane: new MemoryDataPlane(),
    identityCenter: { users: [{ userName: 'alice@example.com', accountId: '123456789012', roleName: 'Analyst' },
      { userName: 'bob@example.com', accountId: '123456789012', roleName: 'Analyst' }], pollIntervalSeconds: 1 },
  });
  oidc = new SSOOIDCClient({ region: REGION, endpoint: emulator.url, maxAttempts: 1 });
});

afterAll(async () => {
  await emulator?.close();
});

async function browse(url: string, decision = 'allow', user?: string): Promise<void> {
  await run(process.execPath, [BROWSER, url], { env: { ...process.env, TEST_BROWSER_DECISION: decision,
    ...(user ? { TEST_BROWSER_USER: user } : {}) } });
}

/** A loopback listener that receives the redirect, as a sign-in's would. */
async function callbackListener(): Promise<{ uri: string; query: Promise<URLSearchParams>; close(): void }> {
  let deliver: (q: URLSearchParams) => void = () => undefined;
  const query = new Promise<URLSearchParams>((resolve) => { deliver = resolve; });
  const server = createServer((req, res) => {
    deliver(new URL(req.url ?? '/', 'http://127.0.0.1').searchParams);
    res.end('done');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { uri: `http://127.0.0.1:${(server.address() as AddressInfo).port}/oauth/callback`, query, close: () => server.close() };
}

async function registerCodeClient(scopes = ['sso:account:access']) {
  return oidc.send(new RegisterClientCommand({ clientName: 'test', clientType: 'public', scopes,
    grantTypes: ['authorization_code', 'refresh_token'], redirectUris: ['http://127.0.0.1/oauth/callback'], issuerUrl: START_URL }));
}

function pkce(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

function authorizeUrl(clientId: string, redirectUri: string, challenge: string, state: string, scopes = 'sso:account:access'): string {
  const q = new URLSearchParams({ response_type: 'code', client_id: clientId, redirect_uri: redirectUri, state,
    code_challenge_method: 'S256', code_challenge: challenge, scopes });
  return `${emulator.url}/authorize?${q}`;
}

describe('authorization code with PKCE', () => {
  it('approve in the browser → code at the loopback callback → token the portal and validateToken accept', async () => {
    const reg = await registerCodeClient();
    expect(reg.clientSecretExpiresAt).toBeGreaterThan(Date.now() / 1000 + 80 * 86_400);
    const cb = await callbackListener();
    const { verifier, challenge } = pkce();
    const before = emulator.identityCenter.approvals;
    await browse(authorizeUrl(reg.clientId ?? '', cb.uri, challenge, 'state-123'), 'allow', 'bob@example.com');
    const q = await cb.query;
    cb.close();
    expect(q.get('state')).toBe('state-123');
    expect(emulator.identityCenter.approvals).toBe(before + 1);
    const token = await oidc.send(new CreateTokenCommand({ clientId: reg.clientId, clientSecret: reg.clientSecret,
      grantType: 'authorization_code', code: q.get('code') ?? '', redirectUri: cb.uri, codeVerifier: verifier }));
    expect(token).toMatchObject({ tokenType: 'Bearer', expiresIn: 3600 });
    expect(token.refreshToken).toBeTruthy();
    expect(emulator.identityCenter.validateToken(token.accessToken ?? '', 'sso:account:access'))
      .toMatchObject({ userName: 'bob@example.com', scopes: ['sso:account:access'] });
    expect(emulator.identityCenter.validateToken(token.accessToken ?? '', 'redshift:connect')).toBeUndefined();
    const sso = new SSOClient({ region: REGION, endpoint: emulator.url, maxAttempts: 1 });
    const creds = await sso.send(new GetRoleCredentialsCommand({ accessToken: token.accessToken, accountId: '123456789012', roleName: 'Analyst' }));
    expect(creds.roleCredentials?.accessKeyId).toMatch(/^ASIA/);
    // The portal's keys are an assumed role whose session name is the person: GetCallerIdentity says so.
    const sts = new STSClient({ region: REGION, endpoint: emulator.url, maxAttempts: 1, credentials: {
      accessKeyId: creds.roleCredentials?.accessKeyId ?? '', secretAccessKey: creds.roleCredentials?.secretAccessKey ?? '',
      sessionToken: creds.roleCredentials?.sessionToken ?? '' } });
    const me = await sts.send(new GetCallerIdentityCommand({}));
    expect(me.Arn).toMatch(/^arn:aws:sts::123456789012:assumed-role\/AWSReservedSSO_Analyst_[0-9a-f]{16}\/bob@example.com$/);
    expect(me.UserId).toMatch(/^AROA[0-9A-F]{17}:bob@example.com$/);
    expect(me.Account).toBe('123456789012');
    // Logout ends the sign-in: the token and its refresh token stop working.
    await sso.send(new LogoutCommand({ accessToken: token.accessToken }));
    expect(emulator.identityCenter.validateToken(token.accessToken ?? '')).toBeUndefined();
    await expect(sso.send(new GetRoleCredentialsCommand({ accessToken: token.accessToken, accountId: '123456789012', roleName: 'Analyst' })))
      .rejects.toBeInstanceOf(UnauthorizedException);
    await expect(oidc.send(new CreateTokenCommand({ clientId: reg.clientId, clientSecret: reg.clientSecret,
      grantType: 'refresh_token', refreshToken: token.refreshToken }))).rejects.toBeInstanceOf(InvalidGrantException);
  });

  it('a wrong code verifier, a reused code and a wrong client secret are refused', async () => {
    const reg = await registerCodeClient();
    const cb = await callbackListener();
    const { verifier, challenge } = pkce();
    await browse(authorizeUrl(reg.clientId ?? '', cb.uri, challenge, 's'));
    const code = (await cb.query).get('code') ?? '';
    cb.close();
    const input = { clientId: reg.clientId, clientSecret: reg.clientSecret, grantType: 'authorization_code', code, redirectUri: cb.uri };
    await expect(oidc.send(new CreateTokenCommand({ ...input, clientSecret: 'wrong', codeVerifier: verifier })))
      .rejects.toBeInstanceOf(InvalidClientException);
    await expect(oidc.send(new CreateTokenCommand({ ...input, codeVerifier: pkce().verifier })))
      .rejects.toBeInstanceOf(InvalidGrantException);
    // A refused redemption used the code up, as a stolen code must not get a second try.
    await expect(oidc.send(new CreateTokenCommand({ ...input, codeVerifier: verifier }))).rejects.toBeInstanceOf(InvalidGrantException);
  });

  it('deny in the browser → error=access_denied at the callback, and no approval counted', async () => {
    const reg = await registerCodeClient();
    const cb = await callbackListener();
    const before = emulator.identityCenter.approvals;
    await browse(authorizeUrl(reg.clientId ?? '', cb.uri, pkce().challenge, 'st'), 'deny');
    const q = await cb.query;
    cb.close();
    expect([q.get('error'), q.get('state'), q.get('code')]).toEqual(['access_denied', 'st', null]);
    expect(emulator.identityCenter.approvals).toBe(before);
  });

  it('a redirect URI that was not registered gets an error page, not a redirect', async () => {
    const reg = await registerCodeClient();
    const res = await fetch(authorizeUrl(reg.clientId ?? '', 'http://evil.example/oauth/callback', pkce().challenge, 's'), { redirect: 'manual' });
    expect(res.status).toBe(400);
    expect(await res.text()).toContain('redirect_uri is not registered');
  });
});

describe('refresh token', () => {
  it('rotates: the new refresh token works once, the old one never again; revoke ends them all', async () => {
    const reg = await registerCodeClient(['sso:account:access', 'redshift:connect']);
    const cb = await callbackListener();
    const { verifier, challenge } = pkce();
    await browse(authorizeUrl(reg.clientId ?? '', cb.uri, challenge, 's', 'redshift:connect'));
    const code = (await cb.query).get('code') ?? '';
    cb.close();
    const first = await oidc.send(new CreateTokenCommand({ clientId: reg.clientId, clientSecret: reg.clientSecret,
      grantType: 'authorization_code', code, redirectUri: cb.uri, codeVerifier: verifier }));
    expect(emulator.identityCenter.validateToken(first.accessToken ?? '', 'redshift:connect')?.userName).toBe('alice@example.com');
    const refresh = (refreshToken: string | undefined) => oidc.send(new CreateTokenCommand({ clientId: reg.clientId,
      clientSecret: reg.clientSecret, grantType: 'refresh_token', refreshToken }));
    const second = await refresh(first.refreshToken);
    expect(second.refreshToken).not.toBe(first.refreshToken);
    await expect(refresh(first.refreshToken)).rejects.toBeInstanceOf(InvalidGrantException);
    emulator.identityCenter.revoke('alice@example.com');
    await expect(refresh(second.refreshToken)).rejects.toBeInstanceOf(InvalidGrantException);
    expect(emulator.identityCenter.validateToken(second.accessToken ?? '')).toBeUndefined();
  });
});

describe('device code', () => {
  async function deviceClient() {
    const reg = await oidc.send(new RegisterClientCommand({ clientName: 'dev', clientType: 'public', scopes: ['sso:account:access'] }));
    const auth = await oidc.send(new StartDeviceAuthorizationCommand({ clientId: reg.clientId, clientSecret: reg.clientSecret, startUrl: START_URL }));
    const poll = () => oidc.send(new CreateTokenCommand({ clientId: reg.clientId, clientSecret: reg.clientSecret,
      grantType: 'urn:ietf:params:oauth:grant-type:device_code', deviceCode: auth.deviceCode }));
    return { auth, poll };
  }

  it('pending, then slow_down when polled too fast, then the token once the code is confirmed', async () => {
    const { auth, poll } = await deviceClient();
    expect(auth.userCode).toMatch(/^[A-Z]{4}-[A-Z]{4}$/);
    expect(auth.verificationUriComplete).toBe(`${emulator.url}/device?user_code=${auth.userCode}`);
    expect(auth).toMatchObject({ expiresIn: 600, interval: 1 });
    await expect(poll()).rejects.toBeInstanceOf(AuthorizationPendingException);
    await expect(poll()).rejects.toBeInstanceOf(SlowDownException);
    await browse(auth.verificationUriComplete ?? '');
    const token = await poll();
    expect(emulator.identityCenter.validateToken(token.accessToken ?? '')?.userName).toBe('alice@example.com');
  });

  it('denied → AccessDeniedException; an expired device code → ExpiredTokenException', async () => {
    const { auth, poll } = await deviceClient();
    await browse(auth.verificationUriComplete ?? '', 'deny');
    await expect(poll()).rejects.toBeInstanceOf(AccessDeniedException);
    const short = await startEmulator({ principals: [], dataPlane: new MemoryDataPlane(),
      identityCenter: { users: [{ userName: 'a@example.com', accountId: '123456789012', roleName: 'R' }], deviceCodeSeconds: 0 } });
    try {
      const c = new SSOOIDCClient({ region: REGION, endpoint: short.url, maxAttempts: 1 });
      const reg = await c.send(new RegisterClientCommand({ clientName: 'x', clientType: 'public' }));
      const a = await c.send(new StartDeviceAuthorizationCommand({ clientId: reg.clientId, clientSecret: reg.clientSecret, startUrl: START_URL }));
      await expect(c.send(new CreateTokenCommand({ clientId: reg.clientId, clientSecret: reg.clientSecret,
        grantType: 'urn:ietf:params:oauth:grant-type:device_code', deviceCode: a.deviceCode }))).rejects.toBeInstanceOf(ExpiredTokenException);
    } finally {
      await short.close();
    }
  });
});

describe('the call log', () => {
  it('counts the OIDC calls and never holds a secret, code or token', () => {
    expect(emulator.calls.RegisterClient).toBeGreaterThan(0);
    expect(emulator.calls.CreateToken).toBeGreaterThan(0);
    const logged = JSON.stringify(emulator.callLog);
    expect(logged).not.toMatch(/clientSecret|aoa|aor|deviceCode|codeVerifier/);
  });
});
