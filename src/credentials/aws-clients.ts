/**
 * Builds the AWS SDK client configuration shared by every source: the user's identity from the SDK's default
 * provider chain (env, shared files, SSO, web identity, container and instance roles), an optional profile,
 * an optional endpoint override (as the AWS CLI's --endpoint-url), and no SDK-level retries — the credential
 * cache owns retries so that every API call is counted and bounded.
 *
 * With --assume-role, the base identity only signs STS AssumeRole; every Redshift call is made as the role's
 * session (`arn:aws:sts::<account>:assumed-role/<role>/<session name>`), which the SDK renews before it expires.
 */
import { fromNodeProviderChain, fromTemporaryCredentials } from '@aws-sdk/credential-providers';

export interface AwsSettings {
  /** AWS region; when absent the SDK reads AWS_REGION / the profile's region. */
  readonly region?: string | undefined;
  /** Named profile from the shared config/credentials files. */
  readonly profile?: string | undefined;
  /** API endpoint override, e.g. http://127.0.0.1:4566 for a local emulator. */
  readonly endpointUrl?: string | undefined;
  /** Role to assume with the base identity (cross-account set-ups). */
  readonly assumeRoleArn?: string | undefined;
  readonly externalId?: string | undefined;
  readonly roleSessionName?: string | undefined;
}

export interface SdkClientConfig {
  region?: string;
  profile?: string;
  endpoint?: string;
  credentials: ReturnType<typeof fromNodeProviderChain>;
  maxAttempts: number;
}

export function sdkClientConfig(settings: AwsSettings): SdkClientConfig {
  const base = fromNodeProviderChain(settings.profile ? { profile: settings.profile } : {});
  const credentials = settings.assumeRoleArn
    ? fromTemporaryCredentials({
        masterCredentials: base,
        params: {
          RoleArn: settings.assumeRoleArn,
          RoleSessionName: settings.roleSessionName ?? 'redshift-auth-proxy',
          ...(settings.externalId ? { ExternalId: settings.externalId } : {}),
        },
        // STS goes through the same endpoint override as the Redshift calls (an emulator, a VPC endpoint, a
        // FIPS endpoint), and without SDK retries: a failed AssumeRole fails the fetch, which the cache retries.
        clientConfig: {
          ...(settings.region ? { region: settings.region } : {}),
          ...(settings.endpointUrl ? { endpoint: settings.endpointUrl } : {}),
          maxAttempts: 1,
        },
      })
    : base;
  return {
    ...(settings.region ? { region: settings.region } : {}),
    ...(settings.profile ? { profile: settings.profile } : {}),
    ...(settings.endpointUrl ? { endpoint: settings.endpointUrl } : {}),
    credentials,
    maxAttempts: 1,
  };
}

/**
 * The parts of a cache key that say whose credential it is and where it is valid: two listeners that differ only
 * in profile, role, region or API endpoint must never share one.
 */
export function identityKeyParts(settings: AwsSettings): string[] {
  return [settings.profile ?? '', settings.assumeRoleArn ?? '', settings.region ?? '', settings.endpointUrl ?? ''];
}
