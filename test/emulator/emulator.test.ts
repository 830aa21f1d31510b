/**
 * The emulator against the real AWS SDK v3 clients: their signers, serializers, deserializers, retry strategy and
 * error classes run unmodified, so every shape asserted here is one the SDK itself parsed. The database side is
 * the in-memory data plane, a small real implementation that records what it was asked to do.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  ClusterNotFoundFault, DescribeClustersCommand, GetClusterCredentialsCommand, GetClusterCredentialsWithIAMCommand,
  RedshiftClient, RedshiftServiceException,
} from '@aws-sdk/client-redshift';
import {
  AccessDeniedException, GetCredentialsCommand, GetWorkgroupCommand, RedshiftServerlessClient,
  ResourceNotFoundException, ThrottlingException, ValidationException,
} from '@aws-sdk/client-redshift-serverless';
import { SignatureV4 } from '@smithy/signature-v4';
import { MemoryDataPlane } from '../../src/emulator/memory-data-plane.js';
import { startEmulator } from '../../src/emulator/server.js';
import { NodeSha256 } from '../../src/emulator/sigv4.js';
import type { Emulator, Principal } from '../../src/emulator/types.js';

const REGION = 'us-east-1';
const ACCOUNT = '123456789012';

const alice: Principal = {
  accessKeyId: 'AKIAALICEEXAMPLE0001',
  secretAccessKey: 'alice-secret-access-key-0000000000000000',
  arn: `arn:aws:iam::${ACCOUNT}:user/alice`,
};
const analyst: Principal = {
  accessKeyId: 'ASIAANALYSTEXAMPLE01',
  secretAccessKey: 'analyst-secret-access-key-000000000000000',
  sessionToken: 'analyst-session-token',
  arn: `arn:aws:sts::${ACCOUNT}:assumed-role/Analyst/alice@example.com`,
};
/** May get credentials for existing users only, never join `admins`, and may not touch workgroups. */
const limited: Principal = {
  accessKeyId: 'AKIALIMITEDEXAMPLE01',
  secretAccessKey: 'limited-secret-access-key-000000000000000',
  arn: `arn:aws:iam::${ACCOUNT}:user/limited`,
  allow: (action, resource) => action !== 'redshift:CreateClusterUser' && !resource.endsWith('/admins') &&
    !action.startsWith('redshift-serverless:'),
};
const expired: Principal = {
  accessKeyId: 'ASIAEXPIREDEXAMPLE01',
  secretAccessKey: 'expired-secret-access-key-000000000000000',
  sessionToken: 'expired-session-token',
  arn: `arn:aws:sts::${ACCOUNT}:assumed-role/Analyst/old-session`,
  expired: true,
};

type Keys = Pick<Principal, 'accessKeyId' | 'secretAccessKey' | 'sessionToken'>;

function credentialsOf(p: Keys): { accessKeyId: string; secretAccessKey: string; sessionToken?: string } {
  return {
    accessKeyId: p.accessKeyId,
    secretAccessKey: p.secretAccessKey,
    ...(p.sessionToken !== undefined ? { sessionToken: p.sessionToken } : {}),
  };
}

let emulator: Emulator;
let dataPlane: MemoryDataPlane;

/** SDK retries off (maxAttempts 1) unless the SDK's defaults are asked for: each test sees each answer. */
function redshift(p: Keys, retries: 'none' | 'sdk-default' = 'none'): RedshiftClient {
  return new RedshiftClient({
    region: REGION, endpoint: emulator.url, credentials: credentialsOf(p),
    ...(retries === 'none' ? { maxAttempts: 1 } : {}),
  });
}

function serverless(p: Keys): RedshiftServerlessClient {
  return new RedshiftServerlessClient({ region: REGION, endpoint: emulator.url, credentials: credentialsOf(p),
    maxAttempts: 1 });
}

function secondsAhead(d: Date | undefined): number {
  return ((d?.getTime() ?? 0) - Date.now()) / 1000;
}

beforeAll(async () => {
  dataPlane = new MemoryDataPlane({ users: ['IAM:bob'], groups: ['analysts', 'admins'] });
  emulator = await startEmulator({
    principals: [alice, analyst, limited, expired],
    clusters: [{ id: 'analytics', endpoint: { address: 'analytics.abc123.us-east-1.redshift.amazonaws.com', port: 5439 },
      region: REGION }],
    workgroups: [{ name: 'reporting', endpoint: { address: 'reporting.123456789012.us-east-1.redshift-serverless.amazonaws.com',
      port: 5439 }, region: REGION }],
    dataPlane,
  });
});

afterAll(async () => {
  await emulator.close();
});

beforeEach(() => {
  emulator.resetCounters();
  emulator.setLifetimeSeconds(undefined);
  emulator.setDelay(0);
  emulator.setAvailable(true);
});

describe('GetClusterCredentials', () => {
  it('issues IAM:<DbUser> for an existing user and sets the same password and expiry in the database', async () => {
    const out = await redshift(alice).send(new GetClusterCredentialsCommand({
      ClusterIdentifier: 'analytics', DbUser: 'bob', DbName: 'dev', AutoCreate: false,
    }));
    expect(out.DbUser).toBe('IAM:bob');
    expect(out.DbPassword).toMatch(/^[A-Za-z0-9_-]{24,}$/);
    expect(out.Expiration).toBeInstanceOf(Date);
    expect(secondsAhead(out.Expiration)).toBeGreaterThan(890);
    expect(secondsAhead(out.Expiration)).toBeLessThanOrEqual(900);
    expect(dataPlane.roles.get('IAM:bob')?.validUntil.getTime()).toBe(out.Expiration?.getTime());
    expect(dataPlane.accepts('IAM:bob', out.DbPassword ?? '')).toBe(true);
  });

  it('issues IAMA:<DbUser> with AutoCreate, creating the role once and adding it to the groups', async () => {
    const client = redshift(alice);
    const input = { ClusterIdentifier: 'analytics', DbUser: 'carol', AutoCreate: true, DbGroups: ['analysts'],
      DurationSeconds: 3600 };
    const [first, second] = await Promise.all([
      client.send(new GetClusterCredentialsCommand(input)),
      client.send(new GetClusterCredentialsCommand(input)),
    ]);
    expect(first.DbUser).toBe('IAMA:carol');
    expect(secondsAhead(first.Expiration)).toBeGreaterThan(3590);
    const issues = dataPlane.calls.filter((c) => c.op === 'issue' && c.dbUser === 'IAMA:carol');
    expect(issues.map((c) => c.op === 'issue' && c.create)).toEqual([true, false]);
    expect([...(dataPlane.roles.get('IAMA:carol')?.groups ?? [])]).toEqual(['analysts']);
    // Concurrent calls are served one after the other: the later password is the one that works.
    expect(dataPlane.accepts('IAMA:carol', second.DbPassword ?? '')).toBe(true);
  });

  it('answers for a user that does not exist without AutoCreate, and leaves the database alone', async () => {
    const out = await redshift(alice).send(new GetClusterCredentialsCommand({ ClusterIdentifier: 'analytics',
      DbUser: 'nobody' }));
    expect(out.DbUser).toBe('IAM:nobody');
    expect(out.DbPassword).toBeTruthy();
    expect(dataPlane.roles.has('IAM:nobody')).toBe(false);
    expect(dataPlane.calls.some((c) => c.op === 'issue' && c.dbUser === 'IAM:nobody')).toBe(false);
  });

  it('rejects DurationSeconds outside 900–3600 with InvalidParameterValue', async () => {
    const client = redshift(alice);
    for (const DurationSeconds of [899, 3601]) {
      await expect(client.send(new GetClusterCredentialsCommand({ ClusterIdentifier: 'analytics', DbUser: 'bob',
        DurationSeconds }))).rejects.toMatchObject({ name: 'InvalidParameterValue', $metadata: { httpStatusCode: 400 } });
    }
    const ok = await client.send(new GetClusterCredentialsCommand({ ClusterIdentifier: 'analytics', DbUser: 'bob',
      DurationSeconds: 900 }));
    expect(ok.DbUser).toBe('IAM:bob');
  });

  it('rejects a DbGroup that does not exist in the database', async () => {
    const err = await redshift(alice).send(new GetClusterCredentialsCommand({ ClusterIdentifier: 'analytics',
      DbUser: 'bob', DbGroups: ['ghosts'] })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RedshiftServiceException);
    expect(err).toMatchObject({ name: 'InvalidParameterValue', message: expect.stringContaining('ghosts') });
  });

  it('answers an unknown cluster, or one in another region, with the modeled ClusterNotFoundFault', async () => {
    const err = await redshift(alice).send(new GetClusterCredentialsCommand({ ClusterIdentifier: 'nope',
      DbUser: 'bob' })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ClusterNotFoundFault);
    expect(err).toMatchObject({ name: 'ClusterNotFoundFault', message: 'Cluster nope not found.',
      $metadata: { httpStatusCode: 404 } });
    const west = new RedshiftClient({ region: 'us-west-2', endpoint: emulator.url, credentials: credentialsOf(alice),
      maxAttempts: 1 });
    await expect(west.send(new GetClusterCredentialsCommand({ ClusterIdentifier: 'analytics', DbUser: 'bob' })))
      .rejects.toBeInstanceOf(ClusterNotFoundFault);
  });

  it('refuses AutoCreate without redshift:CreateClusterUser, and a group without redshift:JoinGroup', async () => {
    const client = redshift(limited);
    const err = await client.send(new GetClusterCredentialsCommand({ ClusterIdentifier: 'analytics', DbUser: 'dave',
      AutoCreate: true })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RedshiftServiceException);
    expect(err).toMatchObject({
      name: 'AccessDenied',
      $metadata: { httpStatusCode: 403 },
      message: `User: ${limited.arn} is not authorized to perform: redshift:CreateClusterUser on resource: ` +
        `arn:aws:redshift:${REGION}:${ACCOUNT}:dbuser:analytics/dave because no identity-based policy allows the ` +
        'redshift:CreateClusterUser action',
    });
    await expect(client.send(new GetClusterCredentialsCommand({ ClusterIdentifier: 'analytics', DbUser: 'bob',
      DbGroups: ['analysts', 'admins'] }))).rejects.toMatchObject({
      name: 'AccessDenied', message: expect.stringContaining(`redshift:JoinGroup on resource: arn:aws:redshift:${REGION}:` +
        `${ACCOUNT}:dbgroup:analytics/admins`),
    });
    const ok = await client.send(new GetClusterCredentialsCommand({ ClusterIdentifier: 'analytics', DbUser: 'bob',
      DbGroups: ['analysts'] }));
    expect(ok.DbUser).toBe('IAM:bob');
  });
});

describe('GetClusterCredentialsWithIAM and DescribeClusters', () => {
  it('derives IAM:<user> from an IAM user and IAMR:<role> from an assumed role, creating the role', async () => {
    const asUser = await redshift(alice).send(new GetClusterCredentialsWithIAMCommand({ ClusterIdentifier: 'analytics',
      DbName: 'dev' }));
    expect(asUser.DbUser).toBe('IAM:alice');
    expect(asUser.NextRefreshTime).toBeInstanceOf(Date);
    expect(secondsAhead(asUser.Expiration)).toBeGreaterThan(890);
    const asRole = await redshift(analyst).send(new GetClusterCredentialsWithIAMCommand({ ClusterIdentifier: 'analytics',
      DurationSeconds: 1800 }));
    expect(asRole.DbUser).toBe('IAMR:Analyst');
    expect(secondsAhead(asRole.Expiration)).toBeGreaterThan(1790);
    expect(dataPlane.accepts('IAMR:Analyst', asRole.DbPassword ?? '')).toBe(true);
  });

  it('describes a cluster with its endpoint, and answers an unknown one with ClusterNotFoundFault', async () => {
    const client = redshift(alice);
    const out = await client.send(new DescribeClustersCommand({ ClusterIdentifier: 'analytics' }));
    expect(out.Clusters).toHaveLength(1);
    expect(out.Clusters?.[0]).toMatchObject({
      ClusterIdentifier: 'analytics',
      ClusterStatus: 'available',
      Endpoint: { Address: 'analytics.abc123.us-east-1.redshift.amazonaws.com', Port: 5439 },
    });
    await expect(client.send(new DescribeClustersCommand({ ClusterIdentifier: 'missing' })))
      .rejects.toBeInstanceOf(ClusterNotFoundFault);
  });
});

describe('Redshift Serverless', () => {
  it('issues credentials for the caller and describes the workgroup', async () => {
    const client = serverless(analyst);
    const creds = await client.send(new GetCredentialsCommand({ workgroupName: 'reporting', dbName: 'dev' }));
    expect(creds.dbUser).toBe('IAMR:Analyst');
    expect(creds.expiration).toBeInstanceOf(Date);
    expect(creds.nextRefreshTime).toBeInstanceOf(Date);
    expect(secondsAhead(creds.expiration)).toBeGreaterThan(890);
    expect(dataPlane.roles.get('IAMR:Analyst')?.validUntil.getTime()).toBe(creds.expiration?.getTime());

    const { workgroup } = await client.send(new GetWorkgroupCommand({ workgroupName: 'reporting' }));
    expect(workgroup).toMatchObject({
      workgroupName: 'reporting',
      status: 'AVAILABLE',
      endpoint: { address: 'reporting.123456789012.us-east-1.redshift-serverless.amazonaws.com', port: 5439 },
    });
    expect(workgroup?.workgroupArn).toBe(`arn:aws:redshift-serverless:${REGION}:${ACCOUNT}:workgroup/${workgroup?.workgroupId}`);
    expect(workgroup?.creationDate).toBeInstanceOf(Date);
  });

  it('answers an unknown workgroup with the modeled ResourceNotFoundException', async () => {
    const err = await serverless(alice).send(new GetCredentialsCommand({ workgroupName: 'ghost' })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ResourceNotFoundException);
    expect(err).toMatchObject({ message: 'Serverless workgroup ghost not found.', resourceName: 'ghost' });
    await expect(serverless(alice).send(new GetWorkgroupCommand({ workgroupName: 'ghost' })))
      .rejects.toBeInstanceOf(ResourceNotFoundException);
  });

  it('refuses with AccessDeniedException and a duration out of range with ValidationException', async () => {
    const denied = await serverless(limited).send(new GetCredentialsCommand({ workgroupName: 'reporting' }))
      .catch((e: unknown) => e);
    expect(denied).toBeInstanceOf(AccessDeniedException);
    expect(denied).toMatchObject({ message: expect.stringContaining(
      `not authorized to perform: redshift-serverless:GetCredentials on resource: arn:aws:redshift-serverless:${REGION}`) });
    await expect(serverless(alice).send(new GetCredentialsCommand({ workgroupName: 'reporting', durationSeconds: 60 })))
      .rejects.toBeInstanceOf(ValidationException);
  });
});

describe('authentication', () => {
  it('rejects a wrong secret with SignatureDoesNotMatch / InvalidSignatureException', async () => {
    const wrong = { ...alice, secretAccessKey: 'not-the-secret' };
    await expect(redshift(wrong).send(new DescribeClustersCommand({})))
      .rejects.toMatchObject({ name: 'SignatureDoesNotMatch', $metadata: { httpStatusCode: 403 } });
    await expect(serverless(wrong).send(new GetWorkgroupCommand({ workgroupName: 'reporting' })))
      .rejects.toMatchObject({ name: 'InvalidSignatureException', $metadata: { httpStatusCode: 403 } });
  });

  it('rejects an unknown key or a foreign session token with InvalidClientTokenId / UnrecognizedClientException', async () => {
    const stranger = { accessKeyId: 'AKIASTRANGER00000000', secretAccessKey: 'x' };
    await expect(redshift(stranger).send(new DescribeClustersCommand({})))
      .rejects.toMatchObject({ name: 'InvalidClientTokenId', message: 'The security token included in the request is invalid.' });
    await expect(redshift({ ...analyst, sessionToken: 'someone-elses-token' }).send(new DescribeClustersCommand({})))
      .rejects.toMatchObject({ name: 'InvalidClientTokenId' });
    await expect(serverless(stranger).send(new GetWorkgroupCommand({ workgroupName: 'reporting' })))
      .rejects.toMatchObject({ name: 'UnrecognizedClientException' });
  });

  it('answers an expired session with ExpiredToken / ExpiredTokenException', async () => {
    await expect(redshift(expired).send(new GetClusterCredentialsWithIAMCommand({ ClusterIdentifier: 'analytics' })))
      .rejects.toMatchObject({ name: 'ExpiredToken', message: 'The security token included in the request is expired' });
    await expect(serverless(expired).send(new GetCredentialsCommand({ workgroupName: 'reporting' })))
      .rejects.toMatchObject({ name: 'ExpiredTokenException', message: 'The security token included in the request is expired' });
  });

  it('rejects a replayed signature over a changed body, a foreign service scope and a missing signature', async () => {
    const signer = (service: string): SignatureV4 => new SignatureV4({ credentials: credentialsOf(alice), region: REGION,
      service, sha256: NodeSha256 });
    const body = 'Action=DescribeClusters&Version=2012-12-01';
    const url = new URL(emulator.url);
    const request = {
      method: 'POST', protocol: 'http:', hostname: url.hostname, port: Number(url.port), path: '/', query: {},
      headers: { host: url.host, 'content-type': 'application/x-www-form-urlencoded',
        'x-amz-content-sha256': (await hashHex(body)) }, body,
    };
    const post = async (headers: Record<string, string>, payload: string): Promise<{ status: number; text: string }> => {
      const res = await fetch(`${emulator.url}/`, { method: 'POST', headers, body: payload });
      return { status: res.status, text: await res.text() };
    };
    const signed = await signer('redshift').sign(request);
    const headers = plainHeaders(signed.headers);
    expect((await post(headers, body)).status).toBe(200);

    const tampered = await post(headers, 'Action=DescribeClusters&Version=2012-12-01&ClusterIdentifier=analytics');
    expect(tampered.status).toBe(403);
    expect(tampered.text).toContain('<Code>SignatureDoesNotMatch</Code>');

    const foreign = await post(plainHeaders((await signer('rds').sign(request)).headers), body);
    expect(foreign.text).toContain("Credential should be scoped to correct service: 'redshift'.");

    const anonymous = await post({ 'content-type': 'application/x-www-form-urlencoded' }, body);
    expect(anonymous.status).toBe(403);
    expect(anonymous.text).toContain('<Code>MissingAuthenticationToken</Code>');
  });
});

describe('failure injection, availability and counters', () => {
  it('surfaces injected throttling with retries off, and the SDK absorbs it with its default retries', async () => {
    emulator.inject({ action: 'GetClusterCredentials', error: 'ThrottlingException', times: 1 });
    await expect(redshift(alice).send(new GetClusterCredentialsCommand({ ClusterIdentifier: 'analytics', DbUser: 'bob' })))
      .rejects.toMatchObject({ name: 'ThrottlingException', message: 'Rate exceeded' });

    emulator.resetCounters();
    emulator.inject({ action: 'GetClusterCredentials', error: 'ThrottlingException', times: 2 });
    const out = await redshift(alice, 'sdk-default').send(new GetClusterCredentialsCommand({ ClusterIdentifier: 'analytics',
      DbUser: 'bob' }));
    expect(out.DbUser).toBe('IAM:bob');
    expect(emulator.calls.GetClusterCredentials).toBe(3);
    expect(out.$metadata.attempts).toBe(3);
  });

  it('throttles Serverless with its modeled ThrottlingException, and only the injected action', async () => {
    emulator.inject({ action: 'GetCredentials', error: 'Throttling', times: 1 });
    const workgroup = await serverless(alice).send(new GetWorkgroupCommand({ workgroupName: 'reporting' }));
    expect(workgroup.workgroup?.workgroupName).toBe('reporting');
    await expect(serverless(alice).send(new GetCredentialsCommand({ workgroupName: 'reporting' })))
      .rejects.toBeInstanceOf(ThrottlingException);
  });

  it('injects 5xx and custom failures', async () => {
    const client = redshift(alice);
    emulator.inject({ error: 'InternalFailure', times: 1 });
    emulator.inject({ error: { code: 'UnsupportedOperation', status: 400, message: 'not today' }, times: 1 });
    await expect(client.send(new DescribeClustersCommand({})))
      .rejects.toMatchObject({ name: 'InternalFailure', $fault: 'server', $metadata: { httpStatusCode: 500 } });
    await expect(client.send(new DescribeClustersCommand({})))
      .rejects.toMatchObject({ name: 'UnsupportedOperationFault', message: 'not today' });
    await expect(client.send(new DescribeClustersCommand({}))).resolves.toMatchObject({ Clusters: [{}] });
  });

  it('goes down as connection resets or as 503 answers, and comes back', async () => {
    const client = redshift(alice);
    emulator.setAvailable(false);
    const reset = await client.send(new DescribeClustersCommand({})).catch((e: unknown) => e);
    expect(reset).toBeInstanceOf(Error);
    expect(reset).not.toBeInstanceOf(RedshiftServiceException);
    emulator.setAvailable(false, '503');
    await expect(client.send(new DescribeClustersCommand({})))
      .rejects.toMatchObject({ name: 'ServiceUnavailable', $metadata: { httpStatusCode: 503 } });
    expect(emulator.calls.DescribeClusters).toBe(0);
    emulator.setAvailable(true);
    await expect(client.send(new DescribeClustersCommand({}))).resolves.toBeDefined();
    expect(emulator.calls.DescribeClusters).toBe(1);
  });

  it('delays answers', async () => {
    emulator.setDelay(200);
    const started = performance.now();
    await redshift(alice).send(new DescribeClustersCommand({ ClusterIdentifier: 'analytics' }));
    expect(performance.now() - started).toBeGreaterThanOrEqual(190);
  });

  it('counts calls per action and logs their parameters, never a secret', async () => {
    const client = redshift(analyst);
    const a = await client.send(new GetClusterCredentialsCommand({ ClusterIdentifier: 'analytics', DbUser: 'bob',
      DbGroups: ['analysts'] }));
    await client.send(new GetClusterCredentialsCommand({ ClusterIdentifier: 'analytics', DbUser: 'bob' }));
    await client.send(new DescribeClustersCommand({}));
    await serverless(analyst).send(new GetWorkgroupCommand({ workgroupName: 'reporting' }));
    expect(emulator.calls).toEqual({ GetClusterCredentials: 2, GetClusterCredentialsWithIAM: 0, DescribeClusters: 1,
      GetCredentials: 0, GetWorkgroup: 1, AssumeRole: 0,
      AssumeRoleWithWebIdentity: 0, GetRoleCredentials: 0, Logout: 0, RegisterClient: 0, StartDeviceAuthorization: 0,
      CreateToken: 0, GetCallerIdentity: 0 });
    expect(emulator.callLog[0]).toMatchObject({
      protocol: 'query', action: 'GetClusterCredentials', caller: analyst.arn, status: 200,
      params: { ClusterIdentifier: 'analytics', DbUser: 'bob', 'DbGroups.DbGroup.1': 'analysts' },
    });
    expect(emulator.callLog[3]).toMatchObject({ protocol: 'json', action: 'GetWorkgroup', params: { workgroupName: 'reporting' } });
    const logged = JSON.stringify(emulator.callLog);
    for (const secret of [a.DbPassword ?? '', analyst.secretAccessKey, analyst.sessionToken ?? '']) {
      expect(logged).not.toContain(secret);
    }
    emulator.resetCounters();
    expect(emulator.calls.GetClusterCredentials).toBe(0);
    expect(emulator.callLog).toHaveLength(0);
  });

  it('issues credentials for the overriding lifetime, equal to the VALID UNTIL it set', async () => {
    emulator.setLifetimeSeconds(4);
    const out = await redshift(alice).send(new GetClusterCredentialsCommand({ ClusterIdentifier: 'analytics',
      DbUser: 'bob', DurationSeconds: 3600 }));
    expect(secondsAhead(out.Expiration)).toBeGreaterThan(2.5);
    expect(secondsAhead(out.Expiration)).toBeLessThanOrEqual(4);
    expect(dataPlane.roles.get('IAM:bob')?.validUntil.getTime()).toBe(out.Expiration?.getTime());
  });
});

async function hashHex(text: string): Promise<string> {
  const h = new NodeSha256();
  h.update(text);
  return Buffer.from(await h.digest()).toString('hex');
}

function plainHeaders(headers: Record<string, string | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) if (v !== undefined && k !== 'host') out[k] = v;
  return out;
}
