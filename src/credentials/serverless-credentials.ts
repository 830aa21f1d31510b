/**
 * Redshift Serverless: redshift-serverless:GetCredentials — a temporary password for the caller's IAM identity
 * (IAM:<user> or IAMR:<role>) in a workgroup.
 * https://docs.aws.amazon.com/redshift-serverless/latest/APIReference/API_GetCredentials.html
 */
import { GetCredentialsCommand, RedshiftServerlessClient } from '@aws-sdk/client-redshift-serverless';
import type { CredentialRequest, CredentialSource } from './credential-source.js';
import { DbCredential } from './db-credential.js';
import { identityKeyParts, sdkClientConfig } from './aws-clients.js';
import type { AwsSettings } from './aws-clients.js';

export interface ServerlessCredentialsSettings {
  /** The workgroup name; may be absent when customDomainName names the workgroup. */
  readonly workgroup?: string | undefined;
  /** Sent as customDomainName: the API finds the workgroup by it. */
  readonly customDomainName?: string | undefined;
  readonly durationSeconds?: number | undefined;
  readonly aws: AwsSettings;
  readonly accountHint?: string | undefined;
}

export class ServerlessCredentialsSource implements CredentialSource {
  readonly action = 'GetCredentials';
  private readonly client: RedshiftServerlessClient;

  constructor(private readonly settings: ServerlessCredentialsSettings) {
    this.client = new RedshiftServerlessClient(sdkClientConfig(settings.aws));
  }

  keyFor(request: CredentialRequest): string {
    const s = this.settings;
    return JSON.stringify([this.action, ...identityKeyParts(s.aws), s.customDomainName ?? s.workgroup, request.dbName]);
  }

  async fetch(request: CredentialRequest, signal?: AbortSignal): Promise<DbCredential> {
    const s = this.settings;
    const out = await this.client.send(
      new GetCredentialsCommand({
        // One or the other: a custom domain names the workgroup by itself.
        ...(s.customDomainName !== undefined ? { customDomainName: s.customDomainName } : { workgroupName: s.workgroup }),
        dbName: request.dbName,
        ...(s.durationSeconds !== undefined ? { durationSeconds: s.durationSeconds } : {}),
      }),
      signal ? { abortSignal: signal } : {},
    );
    if (!out.dbUser || !out.dbPassword || !out.expiration) {
      throw new Error('GetCredentials returned an incomplete answer');
    }
    return new DbCredential(out.dbUser, out.dbPassword, out.expiration);
  }

  resourcesFor(): readonly string[] {
    const region = this.settings.aws.region ?? '<region>';
    const account = this.settings.accountHint ?? '<account-id>';
    return [`arn:aws:redshift-serverless:${region}:${account}:workgroup/<workgroup-id of ${this.settings.workgroup ?? this.settings.customDomainName ?? '?'}>`];
  }
}
