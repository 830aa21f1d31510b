/**
 * IAM Identity Center listener settings: the flags and config-file keys fill the same fields, and the one validation
 * refuses what cannot apply to an IdC login, saying why.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildParser } from '../../src/cli.js';
import { configFromFlags } from '../../src/config/from-flags.js';
import type { Flags } from '../../src/config/from-flags.js';
import { resolveConfig } from '../../src/config/resolve-config.js';
import { validateConfig } from '../../src/config/validate-config.js';

const ISSUER = 'https://identitycenter.amazonaws.com/ssoins-1234567890abcdef';
const CLUSTER = 'my-cluster.abc123xyz.us-east-1.redshift.amazonaws.com';
const SERVERLESS = 'analytics.123456789012.us-west-2.redshift-serverless.amazonaws.com';

async function problems(argv: string[]): Promise<string[]> {
  return validateConfig(configFromFlags((await buildParser(argv).parseAsync()) as Flags));
}

describe('IdC flags', () => {
  it('fill the target for cluster and Serverless endpoints alike', async () => {
    for (const upstream of [CLUSTER, SERVERLESS]) {
      const c = configFromFlags((await buildParser(['--upstream', upstream, '--idc-issuer-url', ISSUER, '--idc-region', 'us-east-1',
        '--idc-namespace', 'corp', '--idc-display-name', 'Analytics proxy']).parseAsync()) as Flags);
      expect(c.listeners[0]?.target).toMatchObject({ upstreamHost: upstream, idcIssuerUrl: ISSUER, idcRegion: 'us-east-1',
        idcNamespace: 'corp', idcDisplayName: 'Analytics proxy' });
      expect(validateConfig(c)).toEqual([]);
    }
    expect(await problems(['--upstream', 'localhost:5439', '--idc-token-command', 'cat token'])).toEqual([]);
  });

  it('refuse the credential options that cannot apply, each with the reason', async () => {
    const found = await problems(['--upstream', CLUSTER, '--idc-issuer-url', ISSUER, '--idc-region', 'us-east-1', '--db-user', 'x',
      '--with-iam', '--db-groups', 'g', '--auto-create', '--duration', '900', '--profile', 'p', '--assume-role', 'arn:aws:iam::1:role/r']);
    expect(found).toEqual([
      '--db-user cannot be used with --idc-issuer-url: the database user is the person the token names (AWSIDC:<user>)',
      '--with-iam cannot be used with --idc-issuer-url: the token, not an IAM identity, names the database user',
      '--db-groups cannot be used with --idc-issuer-url: group membership comes from the Identity Center directory',
      '--auto-create cannot be used with --idc-issuer-url: Redshift creates Identity Center users itself',
      '--duration cannot be used with --idc-issuer-url: the token\'s lifetime is set by Identity Center',
      '--profile cannot be used with --idc-issuer-url: no AWS credentials are used: no credential API is called',
      '--assume-role cannot be used with --idc-issuer-url: no AWS credentials are used: no credential API is called',
    ]);
    expect(await problems(['--workgroup', 'analytics', '--idc-token-command', 'cat t'])).toEqual([
      '--workgroup cannot be used with --idc-token-command: it names the workgroup for GetCredentials; give its endpoint with --upstream',
      '--upstream is missing: an Identity Center listener logs in at the endpoint itself, so give --upstream HOST[:PORT] (the cluster\'s or the workgroup\'s endpoint)',
    ]);
  });

  it('need each other where they must', async () => {
    expect(await problems(['--upstream', CLUSTER, '--idc-issuer-url', ISSUER]))
      .toEqual(['--idc-region is missing: give the region of the Identity Center instance with --idc-region']);
    expect(await problems(['--upstream', CLUSTER, '--idc-issuer-url', 'identitycenter', '--idc-region', 'us east']))
      .toEqual(['--idc-issuer-url must be an http(s) URL, e.g. https://identitycenter.amazonaws.com/ssoins-1234567890abcdef',
        '--idc-region is not an AWS region name (like us-east-1)']);
    expect(await problems(['--upstream', CLUSTER, '--idc-namespace', 'corp']))
      .toEqual(['--idc-namespace needs --idc-issuer-url or --idc-token-command (an Identity Center listener)']);
  });

  it('have config-file keys of the same names, checked by the same rules', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'rap-idc-config-'));
    const file = path.join(dir, 'proxy.yaml');
    writeFileSync(file, [
      'listeners:',
      '  - listen: 127.0.0.1:5440',
      '    target:',
      `      upstream: ${SERVERLESS}`,
      `      idcIssuerUrl: ${ISSUER}`,
      '      idcRegion: us-west-2',
      '      idcNamespace: corp',
      '      idcDisplayName: BI tools',
      '      idcTokenCommand: cat token',
      '  - listen: 127.0.0.1:5441',
      '    target:',
      `      upstream: ${CLUSTER}`,
      `      idcIssuerUrl: ${ISSUER}`,
      '      idcRegion: us-east-1',
      '      dbUser: analyst',
      '',
    ].join('\n'));
    const resolved = resolveConfig({}, file);
    expect(resolved).toEqual({ ok: false, problems: [
      'proxy.yaml:15: listeners[1].target.dbUser cannot be used with idcIssuerUrl: the database user is the person the token names (AWSIDC:<user>)',
    ] });
    writeFileSync(file, `listeners:\n  - target:\n      upstream: ${SERVERLESS}\n      idcIssuerUrl: ${ISSUER}\n      idcRegion: us-west-2\n      idcNamespace: corp\n`);
    const ok = resolveConfig({}, file);
    expect(ok.ok && ok.config.listeners[0]?.target).toMatchObject({ idcIssuerUrl: ISSUER, idcRegion: 'us-west-2', idcNamespace: 'corp' });
  });
});
