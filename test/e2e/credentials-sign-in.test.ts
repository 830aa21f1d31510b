/**
 * Each way a user signs in to AWS, end to end with the SDK's own providers: environment keys, an IAM Identity
 * Center (SSO) profile — including signing in again after it expired, without restarting the proxy —, an EKS pod's
 * web identity and an ECS task role. Nothing but the proxy's usual flags is passed: the identity comes from the
 * environment and files, as on a laptop or in a container. The SDK's SSO, STS and container-credential calls are
 * sent to the emulator (or a local container-credentials server) with AWS_ENDPOINT_URL_<SERVICE>.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ssoSessionProfile, useAwsEnv } from '../support/aws-env.js';
import type { AwsEnv } from '../support/aws-env.js';
import { withClient } from '../support/clients.js';
import type { Principal } from '../../src/emulator/index.js';
import { leakedSecrets, refusal } from '../support/refusals.js';
import { startStack, testPrincipal } from '../support/stack.js';
import type { Stack } from '../support/stack.js';

const START_URL = 'https://corp.awsapps.com/start';
const SSO_TOKEN = 'sso-access-token-EXAMPLE-signed-in';
const POD_ROLE = 'arn:aws:iam::123456789012:role/reporting-pod';
const OIDC_TOKEN = 'eyJhbGciOiJSUzI1NiJ9.EXAMPLE-projected-service-account-token.sig';
const taskRole: Principal = {
  accessKeyId: 'ASIATASKROLE00000001', secretAccessKey: 'task/role/secret/EXAMPLEKEY0000000001',
  sessionToken: 'task-role-session-token-EXAMPLE', arn: 'arn:aws:sts::123456789012:assumed-role/dashboard-task/9f1c',
};

let stack: Stack;
let env: AwsEnv | undefined;

beforeAll(async () => {
  stack = await startStack({
    principals: [testPrincipal, taskRole],
    ssoSessions: [{ accessToken: SSO_TOKEN, accountId: '123456789012', roleName: 'Analyst', userName: 'ana@example.com' }],
    roles: [{ arn: POD_ROLE, webIdentityToken: OIDC_TOKEN }],
  });
});

beforeEach(() => stack.emulator.resetCounters());

afterEach(() => {
  env?.restore();
  env = undefined;
});

afterAll(async () => {
  await stack?.stop();
});

async function sessionUser(target: Parameters<Stack['startProxy']>[0], user = 'anyone'): Promise<string> {
  const p = await stack.startProxy(target);
  return withClient(p.addresses[0]?.port as number, user, async (c) => (await c.query('select current_user as u')).rows[0].u as string);
}

describe('environment keys', () => {
  it('AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY are the identity when nothing else is given', async () => {
    env = useAwsEnv({ vars: { AWS_ACCESS_KEY_ID: testPrincipal.accessKeyId, AWS_SECRET_ACCESS_KEY: testPrincipal.secretAccessKey } });
    expect(await sessionUser({ withIam: true, autoCreate: false })).toBe('IAM:ci');
  });
});

describe('IAM Identity Center (SSO) profile', () => {
  const ssoEnv = (expiresAt: Date): AwsEnv => useAwsEnv({
    config: ssoSessionProfile('analytics', 'corp', START_URL),
    ssoTokens: [{ cacheKey: 'corp', startUrl: START_URL, expiresAt, accessToken: SSO_TOKEN }],
    vars: { AWS_ENDPOINT_URL_SSO: stack.emulator.url },
  });

  it('--profile NAME after aws sso login: the permission set\'s role is the identity', async () => {
    env = ssoEnv(new Date(Date.now() + 3_600_000));
    const user = await sessionUser({ profile: 'analytics', withIam: true, autoCreate: false });
    expect(user).toMatch(/^IAMR:AWSReservedSSO_Analyst_[0-9a-f]{16}$/);
    const [portal, get] = stack.emulator.callLog;
    expect(portal).toMatchObject({ action: 'GetRoleCredentials', params: { role_name: 'Analyst', account_id: '123456789012' } });
    expect(get?.caller).toMatch(/^arn:aws:sts::123456789012:assumed-role\/AWSReservedSSO_Analyst_[0-9a-f]{16}\/ana@example.com$/);
  });

  it('an expired session is refused with the login command; after aws sso login the same proxy connects', async () => {
    env = ssoEnv(new Date(Date.now() - 60_000));
    // --sign-in-wait 0: the proxy does not sign in itself; `aws sso login` elsewhere is what this is about.
    const p = await stack.startProxy({ profile: 'analytics' }, { signInWaitMs: 0 });
    const port = p.addresses[0]?.port as number;
    const err = await refusal(port, 'morning');
    expect(err).toMatchObject({ code: '28000', message: 'your AWS SSO session for profile "analytics" has expired' });
    expect(err.hint).toContain('aws sso login --profile analytics');
    // What `aws sso login --profile analytics` does: a fresh token in the cache. No proxy restart.
    const cacheDir = path.join(env.home, '.aws', 'sso', 'cache');
    writeFileSync(path.join(cacheDir, readdirSync(cacheDir)[0] ?? ''), JSON.stringify({
      accessToken: SSO_TOKEN, expiresAt: new Date(Date.now() + 3_600_000).toISOString(), region: 'us-east-1', startUrl: START_URL }));
    const user = await withClient(port, 'morning', async (c) => (await c.query('select current_user as u')).rows[0].u as string);
    expect(user).toBe('IAMA:morning');
  });
});

describe('container roles: nothing to pass', () => {
  it('EKS IRSA: AWS_ROLE_ARN and AWS_WEB_IDENTITY_TOKEN_FILE, as the pod identity webhook sets them', async () => {
    const tokenFile = path.join(mkdtempSync(path.join(tmpdir(), 'rap-pod-')), 'token');
    writeFileSync(tokenFile, OIDC_TOKEN);
    env = useAwsEnv({ vars: { AWS_ROLE_ARN: POD_ROLE, AWS_WEB_IDENTITY_TOKEN_FILE: tokenFile,
      AWS_ROLE_SESSION_NAME: 'reporting-7d9f', AWS_REGION: 'us-east-1', AWS_ENDPOINT_URL_STS: stack.emulator.url } });
    expect(await sessionUser({ withIam: true, autoCreate: false })).toBe('IAMR:reporting-pod');
    expect(stack.emulator.callLog[0]).toMatchObject({ action: 'AssumeRoleWithWebIdentity', status: 200,
      caller: 'arn:aws:sts::123456789012:assumed-role/reporting-pod/reporting-7d9f', params: { RoleArn: POD_ROLE } });
  });

  it('ECS task role: the container credentials endpoint', async () => {
    const server = await containerCredentialsServer(taskRole, 'ecs-auth-token-EXAMPLE');
    try {
      env = useAwsEnv({ vars: { AWS_CONTAINER_CREDENTIALS_FULL_URI: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v2/credentials/abc`,
        AWS_CONTAINER_AUTHORIZATION_TOKEN: 'ecs-auth-token-EXAMPLE', AWS_REGION: 'us-east-1' } });
      expect(await sessionUser({ withIam: true, autoCreate: false })).toBe('IAMR:dashboard-task');
      expect(stack.emulator.callLog[0]?.caller).toBe(taskRole.arn);
    } finally {
      server.close();
    }
  });
});

describe('secrets', () => {
  it('no SSO token, OIDC token, task-role key or issued password reached the log', () => {
    expect(leakedSecrets([stack.logs.text], [SSO_TOKEN, OIDC_TOKEN, taskRole.secretAccessKey, taskRole.sessionToken,
      testPrincipal.secretAccessKey, ...stack.issuedPasswords])).toEqual([]);
  });
});

/** The ECS agent's credentials endpoint: the task role's keys, for requests carrying the authorization token. */
function containerCredentialsServer(p: Principal, authToken: string): Promise<Server> {
  const server = createServer((req, res) => {
    if (req.headers.authorization !== authToken) {
      res.writeHead(403).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({
      AccessKeyId: p.accessKeyId, SecretAccessKey: p.secretAccessKey, Token: p.sessionToken,
      Expiration: new Date(Date.now() + 3_600_000).toISOString(), RoleArn: 'arn:aws:iam::123456789012:role/dashboard-task',
    }));
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}
