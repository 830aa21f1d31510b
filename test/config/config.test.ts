import { describe, expect, it } from 'vitest';
import { buildParser } from '../../src/cli.js';
import { configFromFlags } from '../../src/config/from-flags.js';
import type { Flags } from '../../src/config/from-flags.js';
import { parseHostPort, parseRedshiftHost } from '../../src/config/redshift-endpoint.js';
import { validateConfig } from '../../src/config/validate-config.js';

async function parse(argv: string[]) {
  return configFromFlags((await buildParser(argv).parseAsync()) as Flags);
}

describe('endpoint names', () => {
  it('reads cluster and region from a provisioned endpoint', () => {
    expect(parseRedshiftHost('my-cluster.abc123xyz.us-east-1.redshift.amazonaws.com'))
      .toEqual({ kind: 'provisioned', clusterId: 'my-cluster', region: 'us-east-1' });
    expect(parseRedshiftHost('Prod.cq1x2y.eu-central-1.redshift.amazonaws.com.cn'))
      .toEqual({ kind: 'provisioned', clusterId: 'prod', region: 'eu-central-1' });
  });

  it('reads workgroup, account and region from a serverless endpoint', () => {
    expect(parseRedshiftHost('analytics.123456789012.us-west-2.redshift-serverless.amazonaws.com'))
      .toEqual({ kind: 'serverless', workgroup: 'analytics', accountId: '123456789012', region: 'us-west-2' });
  });

  it('leaves other names alone', () => {
    expect(parseRedshiftHost('localhost')).toBeUndefined();
    expect(parseRedshiftHost('redshift.example.com')).toBeUndefined();
  });

  it('splits HOST[:PORT] with 5439 as the default port', () => {
    expect(parseHostPort('h')).toEqual({ host: 'h', port: 5439 });
    expect(parseHostPort('h:1234')).toEqual({ host: 'h', port: 1234 });
    expect(parseHostPort('[::1]:99')).toEqual({ host: '::1', port: 99 });
  });
});

describe('flags to Config', () => {
  it('fills the target from the documented flags', async () => {
    const c = await parse(['--upstream', 'my-cluster.abc123xyz.us-east-1.redshift.amazonaws.com', '--db-user', 'analyst',
      '--db-groups', 'a, b', '--auto-create', '--duration', '1800', '--profile', 'p', '--listen', '127.0.0.1:6000']);
    expect(c.listeners[0]).toMatchObject({ host: '127.0.0.1', port: 6000 });
    expect(c.listeners[0]?.target).toMatchObject({ upstreamHost: 'my-cluster.abc123xyz.us-east-1.redshift.amazonaws.com',
      upstreamPort: 5439, dbUser: 'analyst', dbGroups: ['a', 'b'], autoCreate: true, durationSeconds: 1800, profile: 'p' });
    expect(validateConfig(c)).toEqual([]);
  });

  it('takes flags from REDSHIFT_AUTH_PROXY_* environment variables', async () => {
    process.env.REDSHIFT_AUTH_PROXY_DB_USER = 'from-env';
    try {
      const c = await parse(['--upstream', 'h:1']);
      expect(c.listeners[0]?.target.dbUser).toBe('from-env');
    } finally {
      delete process.env.REDSHIFT_AUTH_PROXY_DB_USER;
    }
  });

  it('reports every problem with the flag it concerns', async () => {
    await expect(parse(['--db-user', 'a', '--duration', '60'])).rejects.toThrow(/--duration expects a whole number of seconds from 900 to 3600/);
    const c = { ...(await parse(['--db-user', 'a', '--listen', '0.0.0.0:5439'])) };
    c.listeners = c.listeners.map((l) => ({ ...l, target: { ...l.target, durationSeconds: 60 } }));
    const problems = validateConfig(c).join('\n');
    expect(problems).toMatch(/--upstream/);
    expect(problems).toMatch(/--duration must be .*900 to 3600/);
    expect(problems).toMatch(/not a loopback address/);
    expect(validateConfig(await parse(['--upstream', 'h', '--cluster-id', 'c', '--db-user', 'x']))).toEqual([]);
    expect(validateConfig(await parse(['--upstream', 'h']))).toEqual([expect.stringMatching(/--cluster-id/)]);
    expect(validateConfig(await parse(['--cluster-id', 'c', '--with-iam', '--db-user', 'x'])).join())
      .toMatch(/--db-user cannot be used with --with-iam/);
  });
});

describe('client authentication settings', () => {
  it('a non-loopback listener needs client authentication; with it, it may start', async () => {
    const open = validateConfig(await parse(['--upstream', 'h', '--cluster-id', 'c', '--listen', '0.0.0.0:5439'])).join('\n');
    expect(open).toMatch(/not a loopback address.*client authentication/);
    expect(validateConfig(await parse(['--upstream', 'h', '--cluster-id', 'c', '--listen', '0.0.0.0:5439',
      '--client-password', 'pw', '--client-tls-cert', 'c.pem', '--client-tls-key', 'k.pem', '--client-tls-require']))).toEqual([]);
  });

  it('a client CA needs client TLS, and client TLS needs both files', async () => {
    expect(validateConfig(await parse(['--upstream', 'h', '--cluster-id', 'c', '--client-ca', 'ca.pem'])).join('\n'))
      .toMatch(/client CA needs client TLS/);
    expect(validateConfig(await parse(['--upstream', 'h', '--cluster-id', 'c', '--client-tls-cert', 'c.pem'])).join('\n'))
      .toMatch(/needs both a certificate and a key/);
  });

  it('takes the client password from REDSHIFT_AUTH_PROXY_CLIENT_PASSWORD', async () => {
    process.env.REDSHIFT_AUTH_PROXY_CLIENT_PASSWORD = 'from-env-secret';
    try {
      const c = await parse(['--upstream', 'h', '--cluster-id', 'c']);
      expect(c.listeners[0]?.clientAuth?.password).toBe('from-env-secret');
    } finally {
      delete process.env.REDSHIFT_AUTH_PROXY_CLIENT_PASSWORD;
    }
  });
});
