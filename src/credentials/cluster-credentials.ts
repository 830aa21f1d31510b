/**
 * Provisioned clusters: redshift:GetClusterCredentials — a temporary password for a named database user.
 * https://docs.aws.amazon.com/redshift/latest/APIReference/API_GetClusterCredentials.html
 */
import { GetClusterCredentialsCommand, RedshiftClient } from '@aws-sdk/client-redshift';
import type { CredentialRequest, CredentialSource } from './credential-source.js';
import { DbCredential } from './db-credential.js';
import { identityKeyParts, sdkClientConfig } from './aws-clients.js';
import type { AwsSettings } from './aws-clients.js';

export interface ClusterCredentialsSettings {
  /** The cluster identifier; may be absent when customDomainName names the cluster. */
  readonly clusterId?: string | undefined;
  /** Sent as CustomDomainName: the API finds the cluster by it. */
  readonly customDomainName?: string | undefined;
  readonly dbGroups: readonly string[];
  readonly autoCreate: boolean;
  /** Requested lifetime, 900–3600 s; the API's default (900) when absent. */
  readonly durationSeconds?: number | undefined;
  readonly aws: AwsSettings;
  /** Account id, when known from the endpoint, for ARNs in hints. */
  readonly accountHint?: string | undefined;
}

export class ClusterCredentialsSource implements CredentialSource {
  readonly action = 'GetClusterCredentials';
  private readonly client: RedshiftClient;

  constructor(private readonly settings: ClusterCredentialsSettings) {
    this.client = new RedshiftClient(sdkClientConfig(settings.aws));
  }

  keyFor(request: CredentialRequest): string {
    const s = this.settings;
    return JSON.stringify([this.action, ...identityKeyParts(s.aws), s.customDomainName ?? s.clusterId, request.dbUser,
      request.dbName, [...s.dbGroups].sort(), s.autoCreate]);
  }

  async fetch(request: CredentialRequest, signal?: AbortSignal): Promise<DbCredential> {
    const s = this.settings;
    const out = await this.client.send(
      new GetClusterCredentialsCommand({
        // One or the other, as the Redshift drivers send it: a custom domain names the cluster by itself.
        ...(s.customDomainName !== undefined ? { CustomDomainName: s.customDomainName } : { ClusterIdentifier: s.clusterId }),
        DbUser: request.dbUser,
        DbName: request.dbName,
        ...(s.dbGroups.length > 0 ? { DbGroups: [...s.dbGroups] } : {}),
        AutoCreate: s.autoCreate,
        ...(s.durationSeconds !== undefined ? { DurationSeconds: s.durationSeconds } : {}),
      }),
      signal ? { abortSignal: signal } : {},
    );
    if (!out.DbUser || !out.DbPassword || !out.Expiration) {
      throw new Error('GetClusterCredentials returned an incomplete answer (DbUser, DbPassword or Expiration missing)');
    }
    return new DbCredential(out.DbUser, out.DbPassword, out.Expiration);
  }

  resourcesFor(request: CredentialRequest): readonly string[] {
    const region = this.settings.aws.region ?? '<region>';
    const account = this.settings.accountHint ?? '<account-id>';
    const prefix = `arn:aws:redshift:${region}:${account}`;
    const cluster = this.settings.clusterId ?? `<cluster of ${this.settings.customDomainName ?? '?'}>`;
    return [
      `${prefix}:dbuser:${cluster}/${request.dbUser}`,
      `${prefix}:dbname:${cluster}/${request.dbName}`,
      ...this.settings.dbGroups.map((g) => `${prefix}:dbgroup:${cluster}/${g}`),
    ];
  }
}
