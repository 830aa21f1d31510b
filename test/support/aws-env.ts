/**
 * The AWS identity a proxy started in a test sees, built from real files the SDK's own providers read: an empty
 * environment, a shared config file with SSO profiles, an SSO token cache in a temporary home directory.
 *
 * The SDK reads these at call time, from `process.env`. Each vitest file runs in its own worker process and its
 * tests run one after another, so a test may swap the AWS part of `process.env` and put it back afterwards
 * (`restore`). Every call makes a new directory: the SDK caches files it has read by path, so paths are never reused.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

/** Variables that change which identity the SDK's provider chain finds. */
const IDENTITY_VARIABLES = /^(AWS_|HOME$)/;

export interface SsoToken {
  /** The key of the cache file: the `sso_session` name, or the start URL for a legacy SSO profile. */
  readonly cacheKey: string;
  readonly startUrl: string;
  readonly expiresAt: Date;
  readonly accessToken?: string;
  /** Also the client registration and refresh token `aws sso login` stores, with which the SDK tries a refresh. */
  readonly refresh?: boolean;
}

export interface AwsEnvOptions {
  /** Variables to set after every AWS_* variable was removed (AWS_EC2_METADATA_DISABLED stays on). */
  readonly vars?: Readonly<Record<string, string>>;
  /** Contents of ~/.aws/config (AWS_CONFIG_FILE points at it). */
  readonly config?: string;
  /** Contents of ~/.aws/credentials (AWS_SHARED_CREDENTIALS_FILE points at it). */
  readonly credentials?: string;
  /** Tokens in ~/.aws/sso/cache, as `aws sso login` leaves them. */
  readonly ssoTokens?: readonly SsoToken[];
}

export interface AwsEnv {
  readonly home: string;
  readonly configFile: string;
  readonly credentialsFile: string;
  /** Puts the previous identity variables back. */
  restore(): void;
}

export function useAwsEnv(options: AwsEnvOptions = {}): AwsEnv {
  const saved = Object.entries(process.env).filter(([k]) => IDENTITY_VARIABLES.test(k));
  for (const [k] of saved) delete process.env[k];
  const home = mkdtempSync(path.join(tmpdir(), 'rap-home-'));
  const awsDir = path.join(home, '.aws');
  const cacheDir = path.join(awsDir, 'sso', 'cache');
  mkdirSync(cacheDir, { recursive: true });
  const configFile = path.join(awsDir, 'config');
  const credentialsFile = path.join(awsDir, 'credentials');
  writeFileSync(configFile, options.config ?? '');
  writeFileSync(credentialsFile, options.credentials ?? '');
  for (const t of options.ssoTokens ?? []) {
    writeFileSync(path.join(cacheDir, `${createHash('sha1').update(t.cacheKey).digest('hex')}.json`), JSON.stringify({
      accessToken: t.accessToken ?? 'sso-access-token-that-must-never-be-shown',
      expiresAt: t.expiresAt.toISOString(),
      region: 'us-east-1',
      startUrl: t.startUrl,
      ...(t.refresh ? { clientId: 'sso-client-id-EXAMPLE', clientSecret: 'sso-client-secret-EXAMPLE',
        refreshToken: 'sso-refresh-token-EXAMPLE', registrationExpiresAt: new Date(Date.now() + 86_400_000).toISOString() } : {}),
    }));
  }
  Object.assign(process.env, {
    HOME: home,
    AWS_CONFIG_FILE: configFile,
    AWS_SHARED_CREDENTIALS_FILE: credentialsFile,
    AWS_EC2_METADATA_DISABLED: 'true',
    ...options.vars,
  });
  return {
    home, configFile, credentialsFile,
    restore() {
      for (const k of Object.keys(process.env)) if (IDENTITY_VARIABLES.test(k)) delete process.env[k];
      for (const [k, v] of saved) process.env[k] = v;
    },
  };
}

/** A profile signed in through IAM Identity Center with an `sso-session` section, as `aws configure sso` writes it. */
export function ssoSessionProfile(profile: string, session: string, startUrl: string): string {
  return `[profile ${profile}]\nsso_session = ${session}\nsso_account_id = 123456789012\nsso_role_name = Analyst\n` +
    `region = us-east-1\n\n[sso-session ${session}]\nsso_start_url = ${startUrl}\nsso_region = us-east-1\n` +
    'sso_registration_scopes = sso:account:access\n';
}

/** The older form: the start URL in the profile itself. */
export function legacySsoProfile(profile: string, startUrl: string): string {
  return `[profile ${profile}]\nsso_start_url = ${startUrl}\nsso_region = us-east-1\nsso_account_id = 123456789012\n` +
    'sso_role_name = Analyst\nregion = us-east-1\n';
}
