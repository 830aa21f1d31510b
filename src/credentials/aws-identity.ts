/**
 * Which AWS identity a target's credential calls are signed with, as the SDK's provider chain resolves it — told
 * without secrets: where it came from and the access key id's first characters. (STS GetCallerIdentity would name
 * the principal, but it is one more permission and one more endpoint; the chain's answer needs neither.)
 */
import type { TargetConfig } from '../config/config.js';
import { parseRedshiftHost } from '../config/redshift-endpoint.js';
import { sdkClientConfig } from './aws-clients.js';
import type { AwsSettings, SdkClientConfig } from './aws-clients.js';

type AwsCredentialIdentity = Awaited<ReturnType<SdkClientConfig['credentials']>>;

export interface IdentitySummary {
  /** Where the chain found it, e.g. 'environment variables', 'profile "analytics" (IAM Identity Center)'. */
  readonly source: string;
  /** The access key id's first 8 characters (AKIA… long-term keys, ASIA… temporary). */
  readonly accessKeyIdPrefix: string;
  readonly temporary: boolean;
  readonly expiresAt?: Date | undefined;
  /** The role assumed on top of the base identity (--assume-role). */
  readonly assumedRole?: string | undefined;
}

/** The AWS settings a Target uses for this config (region read from the endpoint name when not given). */
export function awsSettingsFor(t: TargetConfig): AwsSettings {
  const facts = t.upstreamHost ? parseRedshiftHost(t.upstreamHost) : undefined;
  return { region: t.region ?? facts?.region, profile: t.profile, endpointUrl: t.awsEndpointUrl,
    assumeRoleArn: t.assumeRoleArn, externalId: t.externalId };
}

/** SDK feature ids of credential sources (AwsSdkCredentialsFeatures), in words. */
const SOURCE_WORDS: ReadonlyArray<readonly [string, string]> = [
  ['CREDENTIALS_ENV_VARS_STS_WEB_ID_TOKEN', 'web identity token (AWS_WEB_IDENTITY_TOKEN_FILE)'],
  ['CREDENTIALS_ENV_VARS', 'environment variables (AWS_ACCESS_KEY_ID)'],
  ['CREDENTIALS_PROFILE_SSO', 'IAM Identity Center (SSO) profile'],
  ['CREDENTIALS_SSO', 'IAM Identity Center (SSO)'],
  ['CREDENTIALS_PROFILE_PROCESS', 'credential_process of the profile'],
  ['CREDENTIALS_PROFILE_SOURCE_PROFILE', 'role assumed from a source profile'],
  ['CREDENTIALS_PROFILE_STS_WEB_ID_TOKEN', 'web identity token of the profile'],
  ['CREDENTIALS_PROFILE', 'shared credentials profile'],
  ['CREDENTIALS_HTTP', 'container credentials endpoint (ECS/EKS Pod Identity)'],
  ['CREDENTIALS_IMDS', 'EC2 instance metadata (instance role)'],
];

function describeSource(credentials: AwsCredentialIdentity, settings: AwsSettings, env: NodeJS.ProcessEnv): string {
  const features = Object.keys((credentials as { $source?: Record<string, string> }).$source ?? {});
  const found = SOURCE_WORDS.find(([id]) => features.includes(id))?.[1];
  const profile = settings.profile ?? env.AWS_PROFILE;
  const usesProfile = found === undefined || found.includes('profile');
  const base = found ?? (settings.profile || env.AWS_PROFILE ? 'shared config profile'
    : env.AWS_ACCESS_KEY_ID ? 'environment variables (AWS_ACCESS_KEY_ID)' : 'the default provider chain');
  return usesProfile && profile ? `${base} "${profile}"` : base;
}

/** Resolves the identity (may read files, call SSO/STS/IMDS); rejects with the SDK's error when none is found. */
export async function resolveIdentity(t: TargetConfig, env: NodeJS.ProcessEnv = process.env): Promise<IdentitySummary> {
  const settings = awsSettingsFor(t);
  const credentials = await sdkClientConfig(settings).credentials();
  return {
    source: describeSource(credentials, settings, env),
    accessKeyIdPrefix: `${credentials.accessKeyId.slice(0, 8)}…`,
    temporary: credentials.sessionToken !== undefined && credentials.sessionToken !== '',
    expiresAt: credentials.expiration,
    assumedRole: settings.assumeRoleArn,
  };
}

export function formatIdentity(i: IdentitySummary): string {
  const kind = i.temporary ? 'temporary credentials' : 'long-term access key';
  const expiry = i.expiresAt ? `, expires ${i.expiresAt.toISOString()}` : '';
  const role = i.assumedRole ? `, assuming ${i.assumedRole}` : '';
  return `${i.source}: ${kind} ${i.accessKeyIdPrefix}${expiry}${role}`;
}
