/**
 * Provisioned clusters: redshift:GetClusterCredentialsWithIAM — the caller's IAM identity becomes the database
 * user (IAM:<user> or IAMR:<role>); no DbUser is sent.
 * https://docs.aws.amazon.com/redshift/latest/APIReference/API_GetClusterCredentialsWithIAM.html
 */
import { GetClusterCredentialsWithIAMCommand, RedshiftClient } from '@aws-sdk/client-redshift';
import type { CredentialRequest, CredentialSource } from './credential-source.js';
import { DbCredential } from './db-credential.js';
import { identityKeyParts, sdkClientConfig } from './aws-clients.js';
import type { AwsSettings } from './aws-clients.js';

export interface ClusterCredentialsWithIamSettings {
  /** The cluster identifier; may be absent when customDomainName names the cluster. */
  readonly clusterId?: string | undefined;
  /** Sent as CustomDomainName: the API finds the cluster by it. */
  readonly customDomainName?: string | undefined;
  readonly durationSeconds?: number | undefined;
  readonly aws: AwsSettings;
  readonly accountHint?: string | undefined;
}

export class ClusterCredentialsWithIamSource implements CredentialSource {
  readonly action = 'GetClusterCredentialsWithIAM';
  private readonly client: RedshiftClient;

  constructor(private readonly settings: ClusterCredentialsWithIamSettings) {
    this.client = new RedshiftClient(sdkClientConfig(settings.aws));
  }

  /** The identity is the AWS caller, so the client's user name does not change the credential. */
  keyFor(request: CredentialRequest): string {
    const s = this.settings;
    return JSON.stringify([this.action, ...identityKeyParts(s.aws), s.customDomainName ?? s.clusterId, request.dbName]);
  }

  async fetch(request: CredentialRequest, signal?: AbortSignal): Promise<DbCredential> {
    const s = this.settings;
    const out = await this.client.send(
      new GetClusterCredentialsWithIAMCommand({
        // One or the other, as the Redshift drivers send it: a custom domain names the cluster by itself.
        ...(s.customDomainName !== undefined ? { CustomDomainName: s.customDomainName } : { ClusterIdentifier: s.clusterId }),
        DbName: request.dbName,
        ...(s.durationSeconds !== undefined ? { DurationSeconds: s.durationSeconds } : {}),
      }),
      signal ? { abortSignal: signal } : {},
    );
    if (!out.DbUser || !out.DbPassword || !out.Expiration) {
      throw new Error('GetClusterCredentialsWithIAM returned an incomplete answer');
    }
    return new DbCredential(out.DbUser, out.DbPassword, out.Expiration);
  }

  resourcesFor(request: CredentialRequest): readonly string[] {
    const region = this.settings.aws.region ?? '<region>';
    const account = this.settings.accountHint ?? '<account-id>';
    return [`arn:aws:redshift:${region}:${account}:dbname:${this.settings.clusterId ?? `<cluster of ${this.settings.customDomainName ?? '?'}>`}/${request.dbName}`];
  }
}
