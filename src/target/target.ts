/**
 * One listener's destination: which credential source serves it, where the upstream is (given, or discovered
 * with DescribeClusters / GetWorkgroup), and how a client's startup names map to the credential request.
 */
import { readFileSync } from 'node:fs';
import type { SecureContext } from 'node:tls';
import type { TargetConfig } from '../config/config.js';
import { customDomainOf, parseRedshiftHost } from '../config/redshift-endpoint.js';
import type { AwsSettings } from '../credentials/aws-clients.js';
import type { CredentialCache } from '../credentials/credential-cache.js';
import type { CredentialRequest, CredentialSource } from '../credentials/credential-source.js';
import type { DbCredential } from '../credentials/db-credential.js';
import { IdcToken } from '../credentials/idc-token.js';
import { idcTokenSourceFor } from '../credentials/idc-token-source.js';
import type { IdcTokenSource } from '../credentials/idc-token-source.js';
import { isIdcTarget } from '../config/validate-config.js';
import type { IdcStartup } from '../upstream/login.js';
import { ClusterCredentialsSource } from '../credentials/cluster-credentials.js';
import { ClusterCredentialsWithIamSource } from '../credentials/cluster-credentials-with-iam.js';
import { ServerlessCredentialsSource } from '../credentials/serverless-credentials.js';
import { discoverClusterEndpoint, discoverWorkgroupEndpoint } from '../credentials/endpoint-discovery.js';
import { describeCredentialFailure } from '../credentials/aws-error-hints.js';
import type { HintContext } from '../credentials/aws-error-hints.js';
import { ClientError } from '../protocol/client-error.js';
import { IdentityName } from '../credentials/identity-name.js';
import { SqlState } from '../protocol/sqlstate.js';
import type { SignInGate } from '../signin/sign-in-gate.js';
import { AddressCache } from '../upstream/address-cache.js';
import { trustStore } from '../upstream/connect-tls.js';
import type { UpstreamEndpoint } from '../upstream/upstream-endpoint.js';

export interface ResolvedLogin {
  readonly key: string;
  /** A temporary password, or (IdC listeners) an Identity Center token. */
  readonly credential: DbCredential | IdcToken;
  readonly request: CredentialRequest;
  /** The lookup waited for an IAM Identity Center sign-in: a connection opened before it may have gone stale. */
  readonly afterSignIn?: boolean | undefined;
}

export class Target {
  /** The credential API, or (IdC listeners) where Identity Center tokens come from. */
  readonly source: CredentialSource | IdcTokenSource;
  /** IdC listeners: what the startup tells Redshift besides the client's parameters; undefined otherwise. */
  readonly idc: IdcStartup | undefined;
  private readonly aws: AwsSettings;
  private readonly hint: Omit<HintContext, 'resources'>;
  private readonly extraCaPem: readonly string[] | undefined;
  private readonly secureContext: SecureContext;
  private endpointPromise: Promise<UpstreamEndpoint> | undefined;
  /** --db-user-from-identity: the caller's name from STS GetCallerIdentity, once per identity. */
  private readonly identityName: IdentityName | undefined;

  /** @param signIn the proxy's one IAM Identity Center sign-in, for IdC listeners without --idc-token-command. */
  constructor(private readonly config: TargetConfig, private readonly cache: CredentialCache,
    private readonly connectTimeoutMs: number, readonly signIn?: SignInGate) {
    const facts = config.upstreamHost ? parseRedshiftHost(config.upstreamHost) : undefined;
    const clusterId = config.clusterId ?? (facts?.kind === 'provisioned' ? facts.clusterId : undefined);
    const workgroup = config.workgroup ?? (facts?.kind === 'serverless' && !config.clusterId ? facts.workgroup : undefined);
    const accountHint = facts?.kind === 'serverless' ? facts.accountId : undefined;
    const customDomain = customDomainOf(config);
    this.aws = {
      region: config.region ?? facts?.region, profile: config.profile, endpointUrl: config.awsEndpointUrl,
      assumeRoleArn: config.assumeRoleArn, externalId: config.externalId, roleSessionName: config.roleSessionName,
    };
    this.identityName = config.dbUserFromIdentity ? new IdentityName(this.aws) : undefined;
    this.extraCaPem = config.caFile ? [readFileSync(config.caFile, 'utf8')] : undefined;
    this.secureContext = trustStore(this.extraCaPem ?? []);
    const common = { profile: config.profile, region: this.aws.region, endpointUrl: config.awsEndpointUrl,
      assumeRoleArn: config.assumeRoleArn };
    if (isIdcTarget(config)) {
      // Redshift's own Identity Center login: no credential API at all, the token goes to the endpoint itself.
      this.source = idcTokenSourceFor(config, signIn?.provider, signIn?.waitMs);
      this.idc = { namespace: config.idcNamespace, displayName: config.idcDisplayName };
      this.hint = { ...common, action: this.source.action, iamActions: [], targetName: config.upstreamHost ?? 'the endpoint' };
    } else if (workgroup) {
      // A custom domain without --workgroup is taken as a provisioned cluster's (the API finds the cluster by it).
      this.source = new ServerlessCredentialsSource({ workgroup, customDomainName: customDomain,
        durationSeconds: config.durationSeconds, aws: this.aws, accountHint });
      this.hint = { ...common, action: 'GetCredentials', iamActions: ['redshift-serverless:GetCredentials'], targetName: `workgroup "${workgroup}"` };
    } else if (clusterId || customDomain) {
      this.source = config.withIam
        ? new ClusterCredentialsWithIamSource({ clusterId, customDomainName: customDomain, durationSeconds: config.durationSeconds, aws: this.aws })
        : new ClusterCredentialsSource({ clusterId, customDomainName: customDomain, dbGroups: config.dbGroups,
          autoCreate: config.autoCreate, durationSeconds: config.durationSeconds, aws: this.aws });
      this.hint = {
        ...common,
        action: this.source.action,
        iamActions: config.withIam ? ['redshift:GetClusterCredentialsWithIAM']
          : ['redshift:GetClusterCredentials', ...(config.autoCreate ? ['redshift:CreateClusterUser'] : []),
            ...(config.dbGroups.length > 0 ? ['redshift:JoinGroup'] : [])],
        targetName: clusterId ? `cluster "${clusterId}"` : `cluster with custom domain name ${customDomain ?? ''}`,
      };
    } else {
      throw new Error(`cannot tell the cluster identifier from ${config.upstreamHost ?? '(no host)'}; pass --cluster-id or --workgroup`);
    }
    // The custom domain is where clients of the cluster connect (its CNAME) unless --upstream says otherwise, and
    // always the name the certificate must carry.
    this.tlsName = customDomain;
    const host = config.upstreamHost ?? customDomain;
    if (host) {
      this.endpointPromise = Promise.resolve(this.endpointAt(host, config.upstreamPort));
    }
    const lookup = workgroup
      ? { action: 'GetWorkgroup', iamActions: ['redshift-serverless:GetWorkgroup'] }
      : { action: 'DescribeClusters', iamActions: ['redshift:DescribeClusters'] };
    this.lookupHint = { ...this.hint, ...lookup, resources: ['*'] };
    this.discover = async () => {
      const found = workgroup ? await discoverWorkgroupEndpoint(workgroup, this.aws)
        : await discoverClusterEndpoint(clusterId ?? '', this.aws);
      return this.endpointAt(found.host, found.port);
    };
  }

  private readonly discover: () => Promise<UpstreamEndpoint>;
  private readonly tlsName: string | undefined;
  private readonly lookupHint: HintContext;

  private endpointAt(host: string, port: number): UpstreamEndpoint {
    return { host, port, tlsName: this.tlsName, extraCaPem: this.extraCaPem, secureContext: this.secureContext, addresses: new AddressCache(),
      connectTimeoutMs: this.connectTimeoutMs };
  }

  /** The upstream address: as configured, or discovered once (a failed discovery is retried next time). */
  async endpoint(): Promise<UpstreamEndpoint> {
    if (!this.endpointPromise) {
      const p = this.discover();
      this.endpointPromise = p;
      p.catch(() => {
        if (this.endpointPromise === p) this.endpointPromise = undefined;
      });
    }
    try {
      return await this.endpointPromise;
    } catch (err) {
      throw describeCredentialFailure(err, this.lookupHint);
    }
  }

  /**
   * The database the session opens: the client's, else --db-name, else Redshift's default "dev". With --db-name the
   * credential is scoped to that database, so a client asking for another one is told so instead of failing later.
   */
  databaseFor(clientDatabase: string | undefined): string {
    const pinned = this.config.dbName;
    if (pinned && clientDatabase && clientDatabase !== pinned) {
      throw new ClientError({
        code: SqlState.InvalidCatalogName,
        message: `this proxy serves database "${pinned}" (--db-name), not "${clientDatabase}"`,
        hint: `Set the database to "${pinned}" in your tool, or start the proxy without --db-name.`,
      });
    }
    return clientDatabase || pinned || 'dev';
  }

  /** Refuses client user names outside --allowed-users before any API call. */
  checkUser(clientUser: string): void {
    const allowed = this.config.allowedUsers;
    if (allowed && allowed.length > 0 && !allowed.includes(clientUser)) {
      throw new ClientError({
        code: SqlState.InvalidAuthorizationSpecification,
        message: `user "${clientUser}" is not allowed to connect through this proxy`,
        hint: `Connect as one of: ${allowed.join(', ')}.`,
      });
    }
  }

  requestFor(clientUser: string, database: string): CredentialRequest {
    return { dbUser: this.config.dbUser ?? clientUser, dbName: database };
  }

  async resolve(request: CredentialRequest, signal?: AbortSignal): Promise<ResolvedLogin> {
    const source = this.source;
    // The token source keeps its own tokens (and shares one sign-in); its errors already say what to do.
    if (isTokenSource(source)) return { key: source.keyFor(request), credential: await source.token(signal), request };
    const lookUp = async (): Promise<ResolvedLogin> => {
      // --db-user-from-identity: the caller's own name (read once per identity) replaces the client's user name.
      const named = this.identityName ? { ...request, dbUser: await this.identityName.dbUser(signal) } : request;
      const key = source.keyFor(named);
      return { key, credential: await this.cache.get(key, (s) => source.fetch(named, s), signal), request: named };
    };
    try {
      return await lookUp();
    } catch (first) {
      if (signal?.aborted) throw first;
      // The profile's IAM Identity Center sign-in is missing or over: one shared sign-in, then one more try.
      if (!(await this.signIn?.signInFor(this.config.profile, first, signal))) throw this.describe(first, request);
    }
    try {
      return { ...(await lookUp()), afterSignIn: true };
    } catch (err) {
      if (signal?.aborted) throw err;
      throw this.describe(err, request);
    }
  }

  /** A credential API failure as the client's ErrorResponse (the token source's errors are ClientErrors already). */
  private describe(err: unknown, request: CredentialRequest): ClientError {
    if (err instanceof ClientError) return err; // already says what to do (a name Redshift would refuse)
    const source = this.source as CredentialSource;
    return describeCredentialFailure(err, { ...this.hint, resources: source.resourcesFor(request),
      dbUser: this.source instanceof ClusterCredentialsSource ? request.dbUser : undefined });
  }

  /** Whether this target's logins wait for an IAM Identity Center sign-in (login timers hold off meanwhile). */
  holdsLogins(): boolean {
    const source = this.source;
    if (isTokenSource(source)) return source.holdsLogins?.() ?? false;
    return this.signIn?.holdsLogins(this.config.profile) ?? false;
  }

  invalidate(login: ResolvedLogin): void {
    const { credential, key } = login;
    if (credential instanceof IdcToken) {
      if (isTokenSource(this.source)) this.source.refused(credential);
    } else {
      this.cache.invalidate(key, credential);
    }
  }
}

function isTokenSource(source: CredentialSource | IdcTokenSource): source is IdcTokenSource {
  return 'refused' in source;
}
