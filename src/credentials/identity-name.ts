/**
 * --db-user-from-identity: the DbUser is the caller's own name as AWS knows it, read from STS GetCallerIdentity
 * once per identity (per access key: a new sign-in as someone else is a new identity) and kept while the keys last.
 * A name Redshift would refuse is an error that says why — never silently rewritten into someone else's name.
 */
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { ClientError } from '../protocol/client-error.js';
import { SqlState } from '../protocol/sqlstate.js';
import { sdkClientConfig } from './aws-clients.js';
import type { AwsSettings } from './aws-clients.js';
import { nameOf } from './caller-identity.js';

/** GetClusterCredentials' DbUser rule (as the emulator and the API reference state it). */
const DB_USER = /^[A-Za-z][A-Za-z0-9_+.@-]{0,63}$/;
/** Identities remembered (one per access key); a bound, as for every cache. */
const MAX_IDENTITIES = 64;

export class IdentityName {
  private readonly client: STSClient;
  private readonly credentials: ReturnType<typeof sdkClientConfig>['credentials'];
  private readonly names = new Map<string, Promise<string>>();

  constructor(settings: AwsSettings) {
    const config = sdkClientConfig(settings);
    this.credentials = config.credentials;
    this.client = new STSClient(config);
  }

  /** The DbUser for whoever the keys belong to now. Rejects with the SDK's error, or a ClientError for a bad name. */
  async dbUser(signal?: AbortSignal): Promise<string> {
    const keys = await this.credentials();
    let name = this.names.get(keys.accessKeyId);
    if (!name) {
      name = this.lookUp(signal);
      if (this.names.size >= MAX_IDENTITIES) this.names.delete(this.names.keys().next().value as string);
      this.names.set(keys.accessKeyId, name);
      name.catch(() => this.names.delete(keys.accessKeyId));
    }
    return name;
  }

  private async lookUp(signal?: AbortSignal): Promise<string> {
    const out = await this.client.send(new GetCallerIdentityCommand({}), signal ? { abortSignal: signal } : {});
    const arn = out.Arn ?? '';
    const name = nameOf(arn);
    if (name === undefined) {
      throw new ClientError({ code: SqlState.InvalidAuthorizationSpecification,
        message: `the AWS identity ${arn} has no user or role session name to use as the database user`,
        hint: 'Use an IAM user, an assumed role or an IAM Identity Center profile with --db-user-from-identity, or name the user with --db-user.' });
    }
    if (!DB_USER.test(name) || name.toLowerCase() === 'public') {
      throw new ClientError({ code: SqlState.InvalidAuthorizationSpecification,
        message: `your AWS name "${name}" (from ${arn}) cannot be a Redshift database user name`,
        detail: 'Redshift accepts 1 to 64 characters that begin with a letter and contain only letters, digits, underscore, plus, period, at sign or hyphen, and not the name PUBLIC.',
        hint: 'Set a role session name Redshift accepts (the IdC user name, or --role-session-name), or map users with --db-user / the users: section instead of --db-user-from-identity.' });
    }
    return name;
  }
}
