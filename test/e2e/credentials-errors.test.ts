/**
 * Every way getting a credential fails, as the analyst's tool shows it: a FATAL ErrorResponse with SQLSTATE, a
 * sentence, a detail and a hint that says what to do — produced by the real AWS SDK against the emulator, or by the
 * SDK's own providers reading temporary AWS config files. None of them may carry a secret.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import net from 'node:net';
import { withClient } from '../support/clients.js';
import { legacySsoProfile, ssoSessionProfile, useAwsEnv } from '../support/aws-env.js';
import type { AwsEnv } from '../support/aws-env.js';
import type { Principal } from '../../src/emulator/index.js';
import { leakedSecrets, refusal, totalApiCalls } from '../support/refusals.js';
import type { Refusal } from '../support/refusals.js';
import { startStack, testPrincipal } from '../support/stack.js';
import type { Stack } from '../support/stack.js';

const restricted: Principal = {
  accessKeyId: 'AKIARESTRICTED000001', secretAccessKey: 'restricted/secret/EXAMPLEKEY00000000001',
  arn: 'arn:aws:iam::123456789012:user/restricted',
  allow: (action) => !['redshift:GetClusterCredentials', 'redshift-serverless:GetCredentials'].includes(action),
};
const noCreate: Principal = {
  accessKeyId: 'AKIANOCREATE00000001', secretAccessKey: 'nocreate/secret/EXAMPLEKEY000000000001',
  arn: 'arn:aws:iam::123456789012:user/nocreate', allow: (action) => action !== 'redshift:CreateClusterUser',
};
const expired: Principal = {
  accessKeyId: 'ASIAEXPIRED000000001', secretAccessKey: 'expired/secret/EXAMPLEKEY0000000000001',
  sessionToken: 'expired-session-token-EXAMPLE-0123456789abcdef', arn: 'arn:aws:sts::123456789012:assumed-role/Analyst/old',
  expired: true,
};
const noGroups: Principal = {
  accessKeyId: 'AKIANOGROUPS00000001', secretAccessKey: 'nogroups/secret/EXAMPLEKEY00000000001',
  arn: 'arn:aws:iam::123456789012:user/nogroups', allow: (action) => action !== 'redshift:JoinGroup',
};
const federated: Principal = {
  accessKeyId: 'ASIAFEDERATED0000001', secretAccessKey: 'federated/secret/EXAMPLEKEY0000000001',
  sessionToken: 'federated-session-token-EXAMPLE', arn: 'arn:aws:sts::123456789012:federated-user/bob',
};
const SSO_TOKEN = 'sso-access-token-EXAMPLE-do-not-show';
const SECRETS = [testPrincipal.secretAccessKey, restricted.secretAccessKey, noCreate.secretAccessKey,
  expired.secretAccessKey, expired.sessionToken, noGroups.secretAccessKey, federated.secretAccessKey,
  federated.sessionToken, SSO_TOKEN, 'sso-client-secret-EXAMPLE', 'sso-refresh-token-EXAMPLE'];

let stack: Stack;
let env: AwsEnv | undefined;
const seen: Refusal[] = [];

beforeAll(async () => {
  stack = await startStack({ principals: [testPrincipal, restricted, noCreate, expired, noGroups, federated],
    workgroups: ['analytics'] });
});

afterEach(() => {
  env?.restore();
  env = undefined;
});

afterAll(async () => {
  await stack?.stop();
});

const keysOf = (p: Principal): Record<string, string> => ({
  AWS_ACCESS_KEY_ID: p.accessKeyId, AWS_SECRET_ACCESS_KEY: p.secretAccessKey,
  ...(p.sessionToken ? { AWS_SESSION_TOKEN: p.sessionToken } : {}),
});

/** Starts a proxy with these target settings and returns what a client connecting as `user` is told. */
async function refusedWith(target: Parameters<Stack['startProxy']>[0], user = 'alice',
  cache?: Parameters<Stack['startProxy']>[2]): Promise<Refusal> {
  // Sign-in on demand off: these are the messages of a proxy that does not sign in itself (the on-demand sign-in
  // has its own tests in sign-in-on-demand.test.ts).
  const p = await stack.startProxy(target, { signInWaitMs: 0 }, cache);
  const err = await refusal(p.addresses[0]?.port as number, user);
  seen.push(err);
  expect(err.severity).toBe('FATAL');
  expect(leakedSecrets([err.message, err.detail, err.hint], SECRETS)).toEqual([]);
  return err;
}

describe('no AWS identity', () => {
  const past = new Date(Date.now() - 3_600_000);

  it('an SSO session whose token expired: 28000, "aws sso login --profile <name>", no API call', async () => {
    env = useAwsEnv({ config: ssoSessionProfile('analytics-sso', 'corp', 'https://corp.awsapps.com/start'),
      ssoTokens: [{ cacheKey: 'corp', startUrl: 'https://corp.awsapps.com/start', expiresAt: past, accessToken: SSO_TOKEN }] });
    const before = totalApiCalls(stack.emulator);
    const err = await refusedWith({ profile: 'analytics-sso' });
    expect(err.code).toBe('28000');
    expect(err.message).toBe('your AWS SSO session for profile "analytics-sso" has expired');
    expect(err.hint).toContain('aws sso login --profile analytics-sso');
    expect(totalApiCalls(stack.emulator)).toBe(before);
  });

  it('an expired SSO token whose refresh fails (as `aws sso login` leaves them) says the same', async () => {
    const closed = await closedPort();
    env = useAwsEnv({ config: ssoSessionProfile('refreshing', 'corp2', 'https://corp2.awsapps.com/start'),
      ssoTokens: [{ cacheKey: 'corp2', startUrl: 'https://corp2.awsapps.com/start', expiresAt: past, accessToken: SSO_TOKEN,
        refresh: true }],
      // The SDK tries the SSO OIDC refresh first; send it to a closed port instead of the internet.
      vars: { AWS_ENDPOINT_URL_SSO_OIDC: `http://127.0.0.1:${closed}` } });
    const err = await refusedWith({ profile: 'refreshing' });
    expect(err).toMatchObject({ code: '28000', message: 'your AWS SSO session for profile "refreshing" has expired' });
    expect(err.hint).toContain('aws sso login --profile refreshing');
  });

  it('an SSO profile that was never signed in: 28000 and the same hint', async () => {
    env = useAwsEnv({ config: ssoSessionProfile('never', 'corp3', 'https://corp3.awsapps.com/start') });
    const err = await refusedWith({ profile: 'never' });
    expect(err.code).toBe('28000');
    expect(err.message).toMatch(/SSO session for profile "never" was not found/);
    expect(err.hint).toContain('aws sso login --profile never');
  });

  it('a legacy SSO profile (start URL in the profile) whose token expired', async () => {
    env = useAwsEnv({ config: legacySsoProfile('old-style', 'https://legacy.awsapps.com/start'),
      ssoTokens: [{ cacheKey: 'https://legacy.awsapps.com/start', startUrl: 'https://legacy.awsapps.com/start', expiresAt: past }] });
    const err = await refusedWith({ profile: 'old-style' });
    expect(err).toMatchObject({ code: '28000', message: 'your AWS SSO session for profile "old-style" has expired' });
    expect(err.hint).toContain('aws sso login --profile old-style');
  });

  it('no credentials anywhere: 28000, and the hint lists what was tried', async () => {
    env = useAwsEnv();
    const err = await refusedWith({});
    expect(err).toMatchObject({ code: '28000', message: 'no AWS credentials were found for the proxy' });
    expect(err.hint).toContain('AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY (not set)');
    expect(err.hint).toContain(`profile "default" in ${env.configFile} and ${env.credentialsFile}`);
    expect(err.hint).toContain('AWS_WEB_IDENTITY_TOKEN_FILE not set');
    expect(err.hint).toContain('AWS_CONTAINER_CREDENTIALS_RELATIVE_URI/FULL_URI not set');
    expect(err.hint).toContain('AWS_EC2_METADATA_DISABLED');
    expect(err.hint).toContain('aws sso login --profile NAME');
  });

  it('a --profile that does not exist is named', async () => {
    env = useAwsEnv();
    const err = await refusedWith({ profile: 'typo' });
    expect(err).toMatchObject({ code: '28000', message: 'no AWS credentials were found for profile "typo"' });
    expect(err.hint).toContain(`profile "typo" in ${env.configFile}`);
  });

  it('no region anywhere (no --region, no AWS_REGION, not a Redshift host name): 08001 naming --region', async () => {
    env = useAwsEnv({ vars: keysOf(testPrincipal) });
    const err = await refusedWith({ region: undefined, upstreamHost: 'localhost' });
    expect(err).toMatchObject({ code: '08001', message: 'the proxy does not know which AWS region the cluster is in' });
    expect(err.hint).toMatch(/--region/);
  });
});

describe('AWS refuses the identity', () => {
  it('AccessDenied on GetClusterCredentials: the detail names action and ARNs, the hint a policy with redshift:DbUser', async () => {
    env = useAwsEnv({ vars: { ...keysOf(restricted), AWS_REGION: 'us-east-1' } });
    const err = await refusedWith({ autoCreate: false });
    expect(err).toMatchObject({ code: '28000',
      message: 'your AWS identity is not allowed to call GetClusterCredentials for cluster "test-cluster"' });
    const dbUserArn = 'arn:aws:redshift:us-east-1:123456789012:dbuser:test-cluster/alice';
    expect(err.detail).toContain('redshift:GetClusterCredentials');
    expect(err.detail).toContain(dbUserArn);
    expect(err.detail).toContain(restricted.arn);
    const policy = JSON.parse(/(\{"Effect".*\})/.exec(err.hint ?? '')?.[1] ?? '{}') as Record<string, unknown>;
    expect(policy).toEqual({ Effect: 'Allow', Action: 'redshift:GetClusterCredentials',
      Resource: [dbUserArn, 'arn:aws:redshift:us-east-1:123456789012:dbname:test-cluster/dev'],
      Condition: { StringEquals: { 'redshift:DbUser': 'alice' } } });
  });

  it('AccessDenied on Serverless GetCredentials names the workgroup ARN', async () => {
    env = useAwsEnv({ vars: keysOf(restricted) });
    const err = await refusedWith({ clusterId: undefined, workgroup: 'analytics', autoCreate: false });
    expect(err.code).toBe('28000');
    expect(err.message).toBe('your AWS identity is not allowed to call GetCredentials for workgroup "analytics"');
    expect(err.hint).toMatch(/"Action":"redshift-serverless:GetCredentials","Resource":"arn:aws:redshift-serverless:us-east-1:123456789012:workgroup\/[0-9a-f-]{36}"/);
  });

  it('--auto-create without redshift:CreateClusterUser says so and offers both ways out', async () => {
    env = useAwsEnv({ vars: keysOf(noCreate) });
    const err = await refusedWith({ autoCreate: true });
    expect(err.code).toBe('28000');
    expect(err.message).toMatch(/may not create database users, which --auto-create needs \(redshift:CreateClusterUser\)/);
    expect(err.hint).toContain('"Action":"redshift:CreateClusterUser"');
    expect(err.hint).toMatch(/without --auto-create/);
  });

  it('--db-groups without redshift:JoinGroup names the group ARN', async () => {
    env = useAwsEnv({ vars: keysOf(noGroups) });
    const err = await refusedWith({ dbGroups: ['analysts'] });
    expect(err).toMatchObject({ code: '28000',
      message: 'your AWS identity may not join the database groups given with --db-groups (redshift:JoinGroup)' });
    expect(err.hint).toContain('{"Effect":"Allow","Action":"redshift:JoinGroup","Resource":"arn:aws:redshift:us-east-1:123456789012:dbgroup:test-cluster/analysts"}');
  });

  it('--with-iam as an identity that is neither an IAM user nor a role (a federated user)', async () => {
    env = useAwsEnv({ vars: keysOf(federated) });
    const err = await refusedWith({ withIam: true, autoCreate: false });
    expect(err).toMatchObject({ code: '28000', message: 'GetClusterCredentialsWithIAM cannot derive a database user from this AWS identity' });
    expect(err.hint).toMatch(/--db-user/);
  });

  it('an expired session token (Query and JSON APIs): 28000, renew the keys', async () => {
    env = useAwsEnv({ vars: keysOf(expired) });
    for (const target of [{}, { clusterId: undefined, workgroup: 'analytics', autoCreate: false }]) {
      const err = await refusedWith(target);
      expect(err).toMatchObject({ code: '28000', message: 'the temporary AWS credentials the proxy signs with have expired' });
      expect(err.hint).toMatch(/AWS_SESSION_TOKEN.*--profile/);
    }
  });

  it('a wrong secret key: 28000, and the key is nowhere in the answer', async () => {
    env = useAwsEnv({ vars: { AWS_ACCESS_KEY_ID: testPrincipal.accessKeyId, AWS_SECRET_ACCESS_KEY: 'wrong/secret/EXAMPLEKEY0000000000000' } });
    const err = await refusedWith({});
    expect(err).toMatchObject({ code: '28000', message: 'AWS did not accept the access key the proxy signs with' });
    expect(leakedSecrets([err.message, err.detail, err.hint], ['wrong/secret/EXAMPLEKEY0000000000000'])).toEqual([]);
  });
});

describe('the target is wrong', () => {
  it('ClusterNotFound: 08001 naming the cluster and region', async () => {
    const err = await refusedWith({ clusterId: 'ghost' });
    expect(err).toMatchObject({ code: '08001', message: 'Redshift has no cluster "ghost" in region us-east-1' });
    expect(err.hint).toMatch(/--cluster-id and --region/);
  });

  it('a workgroup that does not exist: 08001 naming it', async () => {
    const err = await refusedWith({ clusterId: undefined, workgroup: 'ghost-wg', autoCreate: false });
    expect(err).toMatchObject({ code: '08001', message: 'Redshift Serverless has no workgroup "ghost-wg" in region us-east-1' });
    expect(err.hint).toMatch(/--workgroup and --region/);
  });

  it('DbGroups that do not exist: 28000 naming the group', async () => {
    const err = await refusedWith({ dbGroups: ['no_such_group'] });
    expect(err).toMatchObject({ code: '28000', message: 'database group "no_such_group" does not exist in cluster "test-cluster"' });
    expect(err.hint).toMatch(/--db-groups/);
  });

  it('a user name Redshift cannot take: 28000 quoting AWS', async () => {
    const err = await refusedWith({}, 'bad:name');
    expect(err.code).toBe('28000');
    expect(err.message).toMatch(/^AWS refused the GetClusterCredentials request: DbUser "bad:name" is not valid/);
  });

  it('an unreachable AWS API: 08001 naming the endpoint', async () => {
    const url = `http://127.0.0.1:${await closedPort()}`;
    const err = await refusedWith({ awsEndpointUrl: url }, 'alice', { attempts: 2, backoffBaseMs: 5 });
    expect(err).toMatchObject({ code: '08001', message: `the proxy cannot reach the AWS API at ${url}` });
  });
});

describe('throttling', () => {
  it('longer than the retry budget: a clear 08001; the proxy recovers when throttling stops', async () => {
    const p = await stack.startProxy({}, {}, { attempts: 3, backoffBaseMs: 5 });
    const port = p.addresses[0]?.port as number;
    stack.emulator.resetCounters();
    stack.emulator.inject({ action: 'GetClusterCredentials', error: 'Throttling', times: 1_000 });
    const err = await refusal(port, 'throttled');
    seen.push(err);
    expect(err).toMatchObject({ code: '08001', message: 'AWS kept throttling the credential requests and the proxy gave up after several tries' });
    expect(stack.emulator.calls.GetClusterCredentials).toBe(3);
    stack.emulator.resetCounters(); // drops the injection: AWS stops throttling
    const u = await withClient(port, 'throttled', async (c) => (await c.query('select current_user as u')).rows[0].u as string);
    expect(u).toBe('IAMA:throttled');
  });
});

describe('secrets', () => {
  it('no secret key, session token, SSO token or issued password reached a client or the log', () => {
    expect(seen.length).toBeGreaterThan(15);
    const texts = [stack.logs.text, ...seen.flatMap((e) => [e.message, e.detail, e.hint])];
    expect(leakedSecrets(texts, [...SECRETS, ...stack.issuedPasswords])).toEqual([]);
  });
});

function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}
