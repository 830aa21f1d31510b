/**
 * Every credential source end to end, each through the proxy with a real client: GetClusterCredentialsWithIAM
 * (the caller's ARN becomes the user), Serverless GetCredentials, endpoint discovery from a cluster id or workgroup
 * alone, a cross-account role with an external id, and --allowed-users refusing before any AWS call.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { useAwsEnv } from '../support/aws-env.js';
import type { AwsEnv } from '../support/aws-env.js';
import { withClient } from '../support/clients.js';
import { leakedSecrets, refusal, totalApiCalls } from '../support/refusals.js';
import { startStack, testPrincipal, TEST_CLUSTER } from '../support/stack.js';
import type { Stack } from '../support/stack.js';

const ROLE_ARN = 'arn:aws:iam::210987654321:role/Analyst';
const EXTERNAL_ID = 'partner-7f3a';
let stack: Stack;
let env: AwsEnv | undefined;

beforeAll(async () => {
  stack = await startStack({
    workgroups: ['analytics'],
    roles: [{ arn: ROLE_ARN, externalId: EXTERNAL_ID, trusts: (caller) => caller === testPrincipal.arn }],
  });
});

afterAll(async () => {
  await stack?.stop();
});

beforeEach(() => {
  stack.emulator.resetCounters();
});

afterEach(() => {
  env?.restore();
  env = undefined;
});

async function portOf(...args: Parameters<Stack['startProxy']>): Promise<number> {
  const p = await stack.startProxy(...args);
  return p.addresses[0]?.port as number;
}

const currentUser = (port: number, user: string): Promise<string> =>
  withClient(port, user, async (c) => (await c.query('select current_user as u')).rows[0].u as string);

describe('--with-iam (GetClusterCredentialsWithIAM)', () => {
  it('logs in as the caller\'s IAM user, sends no DbUser, and shares one credential across client names', async () => {
    const port = await portOf({ withIam: true, autoCreate: false });
    expect(await currentUser(port, 'anyone')).toBe('IAM:ci');
    expect(await currentUser(port, 'someone-else')).toBe('IAM:ci');
    const calls = stack.emulator.callLog.filter((c) => c.action === 'GetClusterCredentialsWithIAM');
    expect(calls).toHaveLength(1);
    expect(calls[0]?.params).toMatchObject({ ClusterIdentifier: TEST_CLUSTER, DbName: 'dev' });
    expect(calls[0]?.params).not.toHaveProperty('DbUser');
    expect(stack.emulator.calls.GetClusterCredentials).toBe(0);
  });

  it('passes --duration as DurationSeconds', async () => {
    const port = await portOf({ withIam: true, autoCreate: false, durationSeconds: 1800 });
    await currentUser(port, 'anyone');
    expect(stack.emulator.callLog[0]?.params).toMatchObject({ DurationSeconds: '1800' });
  });
});

describe('GetClusterCredentials options and AWS identities', () => {
  it('--db-groups joins existing groups for the session', async () => {
    await stack.bed.superuserQuery('CREATE ROLE analysts NOLOGIN');
    const port = await portOf({ dbGroups: ['analysts'] });
    const member = await withClient(port, 'grouped', async (c) =>
      (await c.query("select pg_has_role(current_user, 'analysts', 'member') as m")).rows[0].m as boolean);
    expect(member).toBe(true);
    expect(stack.emulator.callLog[0]?.params).toMatchObject({ 'DbGroups.DbGroup.1': 'analysts', AutoCreate: 'true' });
  });

  it('--profile with keys in the shared credentials file, its region from the config file', async () => {
    env = useAwsEnv({
      config: '[profile keys]\nregion = us-east-1\n',
      credentials: `[keys]\naws_access_key_id = ${testPrincipal.accessKeyId}\naws_secret_access_key = ${testPrincipal.secretAccessKey}\n`,
    });
    const port = await portOf({ profile: 'keys', region: undefined });
    expect(await currentUser(port, 'profiled')).toBe('IAMA:profiled');
    expect(stack.emulator.callLog[0]).toMatchObject({ caller: testPrincipal.arn, region: 'us-east-1' });
  });

  it('AWS_PROFILE picks the profile when --profile is not given', async () => {
    env = useAwsEnv({
      vars: { AWS_PROFILE: 'from-env', AWS_REGION: 'us-east-1' },
      credentials: `[from-env]\naws_access_key_id = ${testPrincipal.accessKeyId}\naws_secret_access_key = ${testPrincipal.secretAccessKey}\n`,
    });
    const port = await portOf({});
    expect(await currentUser(port, 'envprofile')).toBe('IAMA:envprofile');
  });
});

describe('--assume-role with --external-id (cross-account)', () => {
  it('assumes the role through the same endpoint and runs the session as IAMR:<role>', async () => {
    const port = await portOf({ withIam: true, autoCreate: false, assumeRoleArn: ROLE_ARN, externalId: EXTERNAL_ID });
    expect(await currentUser(port, 'anyone')).toBe('IAMR:Analyst');
    const [assume, get] = stack.emulator.callLog;
    expect(assume).toMatchObject({ action: 'AssumeRole', caller: testPrincipal.arn, status: 200,
      params: { RoleArn: ROLE_ARN, ExternalId: EXTERNAL_ID, RoleSessionName: 'redshift-auth-proxy' } });
    expect(get).toMatchObject({ action: 'GetClusterCredentialsWithIAM', status: 200,
      caller: 'arn:aws:sts::210987654321:assumed-role/Analyst/redshift-auth-proxy' });
  });

  it('makes GetClusterCredentials calls as the role too', async () => {
    const port = await portOf({ assumeRoleArn: ROLE_ARN, externalId: EXTERNAL_ID });
    expect(await currentUser(port, 'partner')).toBe('IAMA:partner');
    const get = stack.emulator.callLog.find((c) => c.action === 'GetClusterCredentials');
    expect(get?.caller).toMatch(/^arn:aws:sts::210987654321:assumed-role\/Analyst\//);
  });

  it('--role-session-name names the role session (and so CloudTrail\'s record of it)', async () => {
    const port = await portOf({ assumeRoleArn: ROLE_ARN, externalId: EXTERNAL_ID, roleSessionName: 'dash-sidecar' });
    expect(await currentUser(port, 'named')).toBe('IAMA:named');
    expect(stack.emulator.callLog.find((c) => c.action === 'AssumeRole')?.params.RoleSessionName).toBe('dash-sidecar');
    expect(stack.emulator.callLog.find((c) => c.action === 'GetClusterCredentials')?.caller)
      .toBe('arn:aws:sts::210987654321:assumed-role/Analyst/dash-sidecar');
  });

  it('a wrong external id is refused by STS with 28000 and a hint about the role\'s trust policy', async () => {
    const port = await portOf({ withIam: true, autoCreate: false, assumeRoleArn: ROLE_ARN, externalId: 'guess' });
    const err = await refusal(port, 'anyone');
    expect(err.code).toBe('28000');
    expect(err.message).toMatch(/not allowed to assume the role/);
    expect(err.detail).toContain(`sts:AssumeRole on resource: ${ROLE_ARN}`);
    expect(err.hint).toMatch(/--external-id/);
    expect(stack.emulator.calls.GetClusterCredentialsWithIAM).toBe(0);
  });
});

describe('Redshift Serverless (GetCredentials)', () => {
  it('--workgroup with --upstream logs in as the caller\'s identity', async () => {
    const port = await portOf({ clusterId: undefined, workgroup: 'analytics', autoCreate: false });
    expect(await currentUser(port, 'anyone')).toBe('IAM:ci');
    expect(stack.emulator.callLog).toHaveLength(1);
    expect(stack.emulator.callLog[0]).toMatchObject({ protocol: 'json', action: 'GetCredentials',
      params: { workgroupName: 'analytics', dbName: 'dev' } });
  });
});

describe('endpoint discovery', () => {
  it('--cluster-id alone: DescribeClusters finds the endpoint once, then every connection uses it', async () => {
    const port = await portOf({ upstreamHost: undefined, clusterId: TEST_CLUSTER });
    expect(await currentUser(port, 'discoverer')).toBe('IAMA:discoverer');
    expect(await currentUser(port, 'discoverer')).toBe('IAMA:discoverer');
    expect(stack.emulator.calls.DescribeClusters).toBe(1);
    expect(stack.emulator.callLog.find((c) => c.action === 'DescribeClusters')?.params)
      .toMatchObject({ ClusterIdentifier: TEST_CLUSTER });
  });

  it('--workgroup alone: GetWorkgroup finds the endpoint', async () => {
    const port = await portOf({ upstreamHost: undefined, clusterId: undefined, workgroup: 'analytics', autoCreate: false });
    expect(await currentUser(port, 'anyone')).toBe('IAM:ci');
    expect(stack.emulator.calls.GetWorkgroup).toBe(1);
    expect(stack.emulator.calls.GetCredentials).toBe(1);
  });

  it('an explicit --upstream wins: no discovery call at all', async () => {
    const port = await portOf({ clusterId: TEST_CLUSTER });
    await currentUser(port, 'explicit');
    expect(stack.emulator.calls.DescribeClusters).toBe(0);
  });

  it('a cluster that does not exist fails discovery with 08001 naming the cluster', async () => {
    const port = await portOf({ upstreamHost: undefined, clusterId: 'no-such-cluster' });
    const err = await refusal(port, 'anyone');
    expect(err.code).toBe('08001');
    expect(err.message).toMatch(/no cluster "no-such-cluster" in region us-east-1/);
    expect(err.hint).toMatch(/--cluster-id/);
  });
});

describe('--allowed-users', () => {
  it('refuses another name with 28000 before any AWS call, and lets listed names in', async () => {
    const port = await portOf({ allowedUsers: ['alice', 'bob'] });
    const before = totalApiCalls(stack.emulator);
    const err = await refusal(port, 'mallory');
    expect(err).toMatchObject({ code: '28000', message: 'user "mallory" is not allowed to connect through this proxy' });
    expect(err.hint).toMatch(/alice, bob/);
    expect(totalApiCalls(stack.emulator)).toBe(before);
    expect(await currentUser(port, 'alice')).toBe('IAMA:alice');
  });
});

describe('secrets', () => {
  it('no issued password, secret key or session token reached the log', () => {
    expect(leakedSecrets([stack.logs.text], [...stack.issuedPasswords, testPrincipal.secretAccessKey])).toEqual([]);
    expect(stack.logs.text).not.toMatch(/sessionToken|SessionToken=/);
  });
});
