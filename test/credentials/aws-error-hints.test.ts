/**
 * The parts of error translation that no AWS answer reaches in the end-to-end tests: the report of what the
 * provider chain looked at in other environments, a discovered cluster without an address, the cache's own bound,
 * and the last line of defence against a secret in an error text. Every AWS answer itself is covered end to end in
 * test/e2e/credentials-errors.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { describeCredentialFailure } from '../../src/credentials/aws-error-hints.js';
import type { HintContext } from '../../src/credentials/aws-error-hints.js';
import { RateLimitedError } from '../../src/credentials/credential-cache.js';
import { EndpointNotReadyError } from '../../src/credentials/endpoint-discovery.js';
import { triedSources } from '../../src/credentials/provider-chain-report.js';

const ctx: HintContext = { action: 'GetClusterCredentials', iamActions: ['redshift:GetClusterCredentials'],
  resources: ['arn:aws:redshift:<region>:<account-id>:dbuser:c/u'], targetName: 'cluster "c"', region: 'us-east-1' };

describe('what the provider chain tried', () => {
  it('names AWS_PROFILE, a web identity file without its role, and a container endpoint', () => {
    const tried = triedSources(undefined, { AWS_PROFILE: 'dev', AWS_WEB_IDENTITY_TOKEN_FILE: '/var/run/token',
      AWS_CONTAINER_CREDENTIALS_RELATIVE_URI: '/v2/credentials/x' });
    expect(tried).toEqual([
      'profile "dev" in ~/.aws/config and ~/.aws/credentials (from AWS_PROFILE)',
      'web identity token file /var/run/token (but AWS_ROLE_ARN is not set)',
      'the container credentials endpoint (AWS_CONTAINER_CREDENTIALS_*), which gave nothing',
      'EC2 instance metadata (no instance role answered)',
    ]);
  });

  it('says when only half of the environment keys are set', () => {
    expect(triedSources(undefined, { AWS_ACCESS_KEY_ID: 'AKIA…' })[0]).toBe('AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not');
  });
});

describe('describeCredentialFailure', () => {
  it('a cluster without an address yet', () => {
    const e = describeCredentialFailure(new EndpointNotReadyError('cluster sales', 'paused'),
      { ...ctx, action: 'DescribeClusters', resources: ['*'] });
    expect(e).toMatchObject({ code: '08001', message: 'Redshift has no address for cluster sales yet (status paused)' });
    expect(e.hint).toMatch(/--upstream/);
  });

  it('the per-minute bound of the cache', () => {
    expect(describeCredentialFailure(new RateLimitedError(10), ctx)).toMatchObject({ code: '08001',
      message: 'the proxy asked AWS for credentials too often (10 times in a minute) and is waiting before the next request' });
  });

  it('an unknown failure of a lookup is named as a lookup, with the AWS text in the detail', () => {
    const e = describeCredentialFailure(Object.assign(new Error('boom'), { name: 'SomethingNew' }),
      { ...ctx, action: 'GetWorkgroup', targetName: 'workgroup "w"' });
    expect(e).toMatchObject({ code: '08001', message: 'the proxy could not look up the endpoint of workgroup "w" (SomethingNew)',
      detail: 'GetWorkgroup: SomethingNew: boom' });
  });

  it('cuts the value of a secret variable out of anything it would send', () => {
    const env = { AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY', AWS_SESSION_TOKEN: 'FwoGZXIvYXdzEXAMPLETOKEN' };
    const leaky = Object.assign(new Error(`bad key wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY with FwoGZXIvYXdzEXAMPLETOKEN`),
      { name: 'WeirdProxyError' });
    const e = describeCredentialFailure(leaky, ctx, env);
    const all = `${e.message} ${e.detail ?? ''} ${e.hint ?? ''}`;
    expect(all).not.toContain(env.AWS_SECRET_ACCESS_KEY);
    expect(all).not.toContain(env.AWS_SESSION_TOKEN);
    expect(e.detail).toBe('GetClusterCredentials: WeirdProxyError: bad key [redacted] with [redacted]');
  });
});
