/**
 * Which source a target uses and with what names, read from Redshift endpoint host names or given by flags — the
 * real SDK calling the emulator, so the cluster, workgroup and region the API actually receives are checked. The
 * host names do not resolve here, so no connection is opened: only the credential calls and endpoint() are.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { TargetConfig } from '../../src/config/config.js';
import { customDomainOf, parseRedshiftHost } from '../../src/config/redshift-endpoint.js';
import { CredentialCache } from '../../src/credentials/credential-cache.js';
import { Target } from '../../src/target/target.js';
import { MemoryDataPlane, startEmulator } from '../../src/emulator/index.js';
import type { Emulator } from '../../src/emulator/index.js';
import { testPrincipal, useTestAwsEnvironment } from '../support/stack.js';

const PROVISIONED_HOST = 'sales.c1abcdefgh2i.eu-west-1.redshift.amazonaws.com';
const SERVERLESS_HOST = 'analytics.123456789012.eu-west-1.redshift-serverless.amazonaws.com';
const bed = { address: 'localhost', port: 5439 };
let emulator: Emulator;
const caches: CredentialCache[] = [];

beforeAll(async () => {
  useTestAwsEnvironment(); // AWS_REGION=us-east-1: a region read from the host name must win over it
  emulator = await startEmulator({
    principals: [testPrincipal],
    clusters: [{ id: 'sales', region: 'eu-west-1', endpoint: bed, customDomainName: 'warehouse.example.com' },
      { id: 'finance', region: 'eu-west-1', endpoint: bed }, { id: 'sales', region: 'us-west-2', endpoint: bed }],
    workgroups: [{ name: 'analytics', region: 'eu-west-1', endpoint: bed, customDomainName: 'lake.example.com' }],
    dataPlane: new MemoryDataPlane(),
  });
});

afterAll(async () => {
  for (const c of caches) c.close();
  await emulator?.close();
});

beforeEach(() => emulator.resetCounters());

function target(overrides: Partial<TargetConfig>): Target {
  const cache = new CredentialCache();
  caches.push(cache);
  return new Target({ upstreamPort: 5439, dbGroups: [], autoCreate: true, withIam: false,
    awsEndpointUrl: emulator.url, ...overrides }, cache, 1_000);
}

async function lastCallOf(t: Target, user = 'alice'): Promise<{ action: string; region?: string; params: Readonly<Record<string, unknown>> }> {
  await t.resolve(t.requestFor(user, 'dev'));
  const call = emulator.callLog.at(-1);
  if (!call) throw new Error('no API call was made');
  return call;
}

describe('parseRedshiftHost', () => {
  it.each([
    [PROVISIONED_HOST, { kind: 'provisioned', clusterId: 'sales', region: 'eu-west-1' }],
    ['Sales.C1ABCDEFGH2I.EU-WEST-1.redshift.amazonaws.com.', { kind: 'provisioned', clusterId: 'sales', region: 'eu-west-1' }],
    ['bi.xyz.cn-north-1.redshift.amazonaws.com.cn', { kind: 'provisioned', clusterId: 'bi', region: 'cn-north-1' }],
    ['gov.abc.us-gov-west-1.redshift.amazonaws.com', { kind: 'provisioned', clusterId: 'gov', region: 'us-gov-west-1' }],
    [SERVERLESS_HOST, { kind: 'serverless', workgroup: 'analytics', accountId: '123456789012', region: 'eu-west-1' }],
  ])('%s', (host, facts) => {
    expect(parseRedshiftHost(host)).toEqual(facts);
  });

  it.each(['localhost', '127.0.0.1', 'redshift.example.com', 'sales.c1.eu-west-1.redshift.amazonaws.com.evil.io',
    'analytics.12345.eu-west-1.redshift-serverless.amazonaws.com'])('%s is not a Redshift endpoint name', (host) => {
    expect(parseRedshiftHost(host)).toBeUndefined();
  });
});

describe('the source a target chooses', () => {
  it('a provisioned host name gives cluster and region; the host itself is the endpoint (no DescribeClusters)', async () => {
    const t = target({ upstreamHost: PROVISIONED_HOST });
    expect(t.source.action).toBe('GetClusterCredentials');
    const call = await lastCallOf(t);
    expect(call).toMatchObject({ action: 'GetClusterCredentials', region: 'eu-west-1',
      params: { ClusterIdentifier: 'sales', DbUser: 'alice', DbName: 'dev', AutoCreate: 'true' } });
    expect(await t.endpoint()).toMatchObject({ host: PROVISIONED_HOST, port: 5439 });
    expect(emulator.calls.DescribeClusters).toBe(0);
  });

  it('a serverless host name gives workgroup and region', async () => {
    const t = target({ upstreamHost: SERVERLESS_HOST, autoCreate: false });
    expect(t.source.action).toBe('GetCredentials');
    const call = await lastCallOf(t);
    expect(call).toMatchObject({ action: 'GetCredentials', region: 'eu-west-1', params: { workgroupName: 'analytics', dbName: 'dev' } });
    expect(emulator.calls.GetWorkgroup).toBe(0);
  });

  it('explicit --cluster-id and --region win over the host name', async () => {
    const t = target({ upstreamHost: PROVISIONED_HOST, clusterId: 'sales', region: 'us-west-2' });
    expect(await lastCallOf(t)).toMatchObject({ region: 'us-west-2', params: { ClusterIdentifier: 'sales' } });
    const other = target({ upstreamHost: PROVISIONED_HOST, clusterId: 'finance' });
    expect(await lastCallOf(other)).toMatchObject({ region: 'eu-west-1', params: { ClusterIdentifier: 'finance' } });
  });

  it('--cluster-id on a serverless host name means the provisioned cluster', async () => {
    const t = target({ upstreamHost: SERVERLESS_HOST, clusterId: 'sales' });
    expect(await lastCallOf(t)).toMatchObject({ action: 'GetClusterCredentials', region: 'eu-west-1' });
  });

  it('--with-iam on a provisioned host name uses GetClusterCredentialsWithIAM, keyed without the client user', async () => {
    const t = target({ upstreamHost: PROVISIONED_HOST, withIam: true });
    expect(await lastCallOf(t)).toMatchObject({ action: 'GetClusterCredentialsWithIAM', params: { ClusterIdentifier: 'sales' } });
    expect(t.source.keyFor({ dbUser: 'a', dbName: 'dev' })).toBe(t.source.keyFor({ dbUser: 'b', dbName: 'dev' }));
  });

  it('an IP address or a dotless host, without --cluster-id or --workgroup, is refused at start', () => {
    expect(() => target({ upstreamHost: '10.1.2.3' })).toThrow(/--cluster-id or --workgroup/);
    expect(() => target({ upstreamHost: 'warehouse' })).toThrow(/--cluster-id or --workgroup/);
  });

  it('--cluster-id alone discovers the endpoint with DescribeClusters in the configured region', async () => {
    const t = target({ clusterId: 'sales', region: 'eu-west-1' });
    expect(await t.endpoint()).toMatchObject({ host: 'localhost', port: 5439 });
    expect(emulator.callLog.at(-1)).toMatchObject({ action: 'DescribeClusters', region: 'eu-west-1' });
  });

  it('keys differ by cluster, region, user, database, groups and role; not by anything else', () => {
    const base = target({ clusterId: 'sales', region: 'eu-west-1' });
    const key = (t: Target, user = 'alice', db = 'dev'): string => t.source.keyFor({ dbUser: user, dbName: db });
    expect(key(base)).toBe(key(target({ clusterId: 'sales', region: 'eu-west-1' })));
    expect(new Set([key(base), key(base, 'bob'), key(base, 'alice', 'other'),
      key(target({ clusterId: 'finance', region: 'eu-west-1' })),
      key(target({ clusterId: 'sales', region: 'eu-west-1', dbGroups: ['g'] })),
      key(target({ clusterId: 'sales', region: 'eu-west-1', assumeRoleArn: 'arn:aws:iam::1:role/R' })),
      key(target({ clusterId: 'sales', region: 'us-west-2' }))]).size).toBe(7);
  });
});

describe('custom domain names', () => {
  it('--custom-domain is sent as CustomDomainName instead of the cluster id, and is where TLS connects and what it verifies', async () => {
    const t = target({ customDomain: 'warehouse.example.com', region: 'eu-west-1' });
    const call = await lastCallOf(t);
    expect(call).toMatchObject({ action: 'GetClusterCredentials', params: { CustomDomainName: 'warehouse.example.com', DbUser: 'alice' } });
    expect(call.params).not.toHaveProperty('ClusterIdentifier');
    expect(await t.endpoint()).toMatchObject({ host: 'warehouse.example.com', port: 5439, tlsName: 'warehouse.example.com' });
  });

  it('is detected from an upstream host that is a DNS name but not an AWS endpoint name', async () => {
    const t = target({ upstreamHost: 'Warehouse.Example.com', region: 'eu-west-1' });
    expect((await lastCallOf(t)).params).toMatchObject({ CustomDomainName: 'warehouse.example.com' });
  });

  it('with --upstream elsewhere (a tunnel, an IP), connects there and still verifies the custom domain name', async () => {
    const t = target({ upstreamHost: '10.0.0.7', upstreamPort: 5440, customDomain: 'warehouse.example.com', region: 'eu-west-1' });
    expect(await t.endpoint()).toMatchObject({ host: '10.0.0.7', port: 5440, tlsName: 'warehouse.example.com' });
  });

  it('Serverless: with --workgroup, GetCredentials gets customDomainName', async () => {
    const t = target({ workgroup: 'analytics', customDomain: 'lake.example.com', region: 'eu-west-1' });
    const call = await lastCallOf(t);
    expect(call).toMatchObject({ action: 'GetCredentials', params: { customDomainName: 'lake.example.com' } });
    expect(call.params).not.toHaveProperty('workgroupName');
  });

  it('a name the API does not know is reported as such', async () => {
    const t = target({ customDomain: 'nowhere.example.com', region: 'eu-west-1' });
    await expect(t.resolve(t.requestFor('alice', 'dev'))).rejects.toThrow(/custom domain name nowhere\.example\.com/);
  });

  it('IP addresses and names without a dot are not custom domains', () => {
    expect(customDomainOf({ upstreamHost: '10.1.2.3' })).toBeUndefined();
    expect(customDomainOf({ upstreamHost: 'localhost' })).toBeUndefined();
    expect(customDomainOf({ upstreamHost: 'warehouse.example.com', clusterId: 'sales' })).toBeUndefined();
    expect(customDomainOf({ upstreamHost: PROVISIONED_HOST })).toBeUndefined();
  });
});
