/**
 * Who the AWS identity is, by name: STS GetCallerIdentity (no permission needed). The name is what IAM knows the
 * caller as — the role session name of an assumed role (for an IAM Identity Center permission set, the person's
 * IdC user name, e.g. `alice@example.com`) or the IAM user name — and `userId` is the `aws:userid` IAM policies
 * see (`AROA…:alice@example.com`, `AIDA…`).
 */
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { sdkClientConfig } from './aws-clients.js';
import type { AwsSettings } from './aws-clients.js';

export interface CallerIdentity {
  readonly arn: string;
  readonly userId: string;
  readonly account: string;
  /** The role session name or IAM user name; undefined for the root user and federated users. */
  readonly name: string | undefined;
}

export async function getCallerIdentity(settings: AwsSettings, signal?: AbortSignal): Promise<CallerIdentity> {
  const client = new STSClient(sdkClientConfig(settings));
  const out = await client.send(new GetCallerIdentityCommand({}), signal ? { abortSignal: signal } : {});
  const arn = out.Arn ?? '';
  return { arn, userId: out.UserId ?? '', account: out.Account ?? '', name: nameOf(arn) };
}

/** `…:assumed-role/<role>/<session>` → session; `…:user/<path/>name` → name. */
export function nameOf(arn: string): string | undefined {
  const resource = arn.split(':').slice(5).join(':');
  const assumed = /^assumed-role\/[^/]+\/(.+)$/.exec(resource);
  if (assumed) return assumed[1];
  const user = /^user\/(?:.*\/)?([^/]+)$/.exec(resource);
  return user?.[1];
}
