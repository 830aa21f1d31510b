/**
 * The public shape of the control-plane emulator: what a test configures at start and the handle it gets back.
 *
 * The emulator stands in for the Redshift (AWS Query) and Redshift Serverless (AWS JSON 1.1) APIs so that the real
 * AWS SDK v3 clients — their signers, serializers, retry strategy and error classes — run unmodified against it.
 */

/** The operations the emulator answers; anything else is an unknown action. */
export const Actions = {
  GetClusterCredentials: 'GetClusterCredentials',
  GetClusterCredentialsWithIAM: 'GetClusterCredentialsWithIAM',
  DescribeClusters: 'DescribeClusters',
  GetCredentials: 'GetCredentials',
  GetWorkgroup: 'GetWorkgroup',
  /** STS (`sts`, Query protocol, version 2011-06-15): temporary keys of a role, see sts.ts. */
  AssumeRole: 'AssumeRole',
  /** STS for EKS pods and other OIDC identities: unsigned, the token is the proof. */
  AssumeRoleWithWebIdentity: 'AssumeRoleWithWebIdentity',
  /** The IAM Identity Center portal (REST-JSON, bearer token): keys for an SSO profile, see sso-portal.ts. */
  GetRoleCredentials: 'GetRoleCredentials',
  /** The portal's Logout (REST-JSON, bearer token): the sign-in's tokens stop working. */
  Logout: 'Logout',
  /** IAM Identity Center OIDC (`sso-oauth`, REST-JSON, unsigned), see sso-oidc.ts. */
  RegisterClient: 'RegisterClient',
  StartDeviceAuthorization: 'StartDeviceAuthorization',
  CreateToken: 'CreateToken',
  /** STS: who the signing keys belong to. */
  GetCallerIdentity: 'GetCallerIdentity',
} as const;
export type ActionName = (typeof Actions)[keyof typeof Actions];

/** `query` is the `redshift` service (form POST, XML answers); `json` is `redshift-serverless` (AWS JSON 1.1). */
export type Protocol = 'query' | 'json';

/** An AWS identity the emulator knows: the keys a client signs with and the ARN the keys belong to. */
export interface Principal {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  /** When set, requests must carry exactly this `X-Amz-Security-Token` (temporary credentials). */
  readonly sessionToken?: string | undefined;
  /** `arn:aws:iam::123456789012:user/alice` or `arn:aws:sts::123456789012:assumed-role/Analyst/session`. */
  readonly arn: string;
  /**
   * The identity's IAM policy, reduced to a predicate over the IAM action (`redshift:GetClusterCredentials`) and
   * the resource ARN. Absent: everything is allowed.
   */
  readonly allow?: ((action: string, resource: string) => boolean) | undefined;
  /** The session token has expired: every request is answered with ExpiredToken(Exception). */
  readonly expired?: boolean | undefined;
  /** Temporary keys (from AssumeRole) stop working at this instant, answered as `expired`. */
  readonly expiresAt?: Date | undefined;
}

/** An IAM role that STS AssumeRole can hand out sessions of. */
export interface RoleConfig {
  /** `arn:aws:iam::<account>:role/<path/>Name`; sessions are `arn:aws:sts::<account>:assumed-role/Name/<session>`. */
  readonly arn: string;
  /** The trust policy's `sts:ExternalId` condition: AssumeRole must carry exactly this value. */
  readonly externalId?: string | undefined;
  /** The trust policy's principals, as a predicate over the caller's ARN. Absent: any known principal. */
  readonly trusts?: ((callerArn: string) => boolean) | undefined;
  /** The role's permission policy, given to every session of it (see `Principal.allow`). */
  readonly allow?: ((action: string, resource: string) => boolean) | undefined;
  /** The OIDC token (the contents of AWS_WEB_IDENTITY_TOKEN_FILE) AssumeRoleWithWebIdentity accepts for it. */
  readonly webIdentityToken?: string | undefined;
}

/** An IAM Identity Center sign-in, as `aws sso login` leaves it: an access token for one permission set. */
export interface SsoSessionConfig {
  /** The `accessToken` of the token file in ~/.aws/sso/cache. */
  readonly accessToken: string;
  /** The profile's sso_account_id and sso_role_name (the permission set). */
  readonly accountId: string;
  readonly roleName: string;
  /** Who signed in: the session name in the role ARN. */
  readonly userName?: string | undefined;
  /** The token stops working at this instant (the portal answers 401). */
  readonly expiresAt?: Date | undefined;
  /** The permission set's policy (see `Principal.allow`). */
  readonly allow?: ((action: string, resource: string) => boolean) | undefined;
}

/** A person who can sign in at the emulator's Identity Center pages, and the permission set they get. */
export interface SsoUserConfig {
  /** The IdC user name, e.g. `alice@example.com`: the role session name of the permission set's role. */
  readonly userName: string;
  readonly accountId: string;
  /** The permission set (sso_role_name). */
  readonly roleName: string;
  /** The permission set's policy (see `Principal.allow`). */
  readonly allow?: ((action: string, resource: string) => boolean) | undefined;
}

/** The emulator's IAM Identity Center OIDC service (RegisterClient, StartDeviceAuthorization, CreateToken). */
export interface IdentityCenterConfig {
  /** Who can sign in; the pages offer them in this order, the first preselected. */
  readonly users: readonly SsoUserConfig[];
  /** Lifetime of issued access tokens (default 3600 s). */
  readonly accessTokenSeconds?: number | undefined;
  /** Lifetime of a device code (default 600 s). */
  readonly deviceCodeSeconds?: number | undefined;
  /** The device flow's polling interval (default 1 s). */
  readonly pollIntervalSeconds?: number | undefined;
  /** Approve every authorization at once, without a page (as a browser already signed in to IdC would). */
  readonly autoApprove?: boolean | undefined;
}

/** An access token the emulator's OIDC service issued, as `validateToken` describes it (never the token itself). */
export interface IssuedToken {
  readonly userName: string;
  readonly user: SsoUserConfig;
  readonly scopes: readonly string[];
  readonly clientId: string;
  readonly expiresAt: Date;
}

/** Test and demo controls of the emulator's Identity Center. */
export interface IdentityCenterHandle {
  /** The token's owner and scopes while it is valid (and carries `scope`, when given); undefined otherwise. */
  validateToken(accessToken: string, scope?: string): IssuedToken | undefined;
  /** Approvals given on the sign-in pages so far (one per completed browser sign-in). */
  readonly approvals: number;
  /** An administrator ends sign-ins (of one user, or all): access and refresh tokens stop working. */
  revoke(userName?: string): void;
  /** Every access token issued so far expires now; refresh tokens keep working. */
  expireAccessTokens(): void;
}

export interface NetworkEndpoint {
  readonly address: string;
  readonly port: number;
}

/** A provisioned cluster, as DescribeClusters would describe it. */
export interface ClusterConfig {
  /** The cluster identifier (Redshift keeps them lower case; lookups ignore case). */
  readonly id: string;
  /** Where its database listens: in tests, the PostgreSQL test bed. */
  readonly endpoint: NetworkEndpoint;
  /** Clusters are regional: a request signed for another region does not see it. */
  readonly region: string;
  /** DescribeClusters' ClusterStatus (default `available`). */
  readonly status?: string | undefined;
  /** A custom domain name callers may use instead of the identifier (CustomDomainName parameter). */
  readonly customDomainName?: string | undefined;
}

/** A Redshift Serverless workgroup. */
export interface WorkgroupConfig {
  readonly name: string;
  readonly endpoint: NetworkEndpoint;
  readonly region: string;
  /** The workgroup id that appears in its ARN (default: a UUID derived from the name). */
  readonly id?: string | undefined;
  readonly namespaceName?: string | undefined;
  readonly customDomainName?: string | undefined;
}

/**
 * The database the credentials are issued into. The emulator does not own a database: like Redshift, it decides
 * who gets which password until when, and this edge makes that true in the test bed.
 */
export interface DataPlane {
  /**
   * Give `dbUser` this password valid until `validUntil`: CREATE the login role when `opts.create`, ALTER it
   * otherwise, and add it to each of `opts.groups` (which exist: the emulator asked `groupExists` first).
   */
  issue(dbUser: string, password: string, validUntil: Date, opts: IssueOptions): Promise<void>;
  userExists(dbUser: string): Promise<boolean>;
  groupExists(name: string): Promise<boolean>;
}

export interface IssueOptions {
  readonly create: boolean;
  readonly groups: readonly string[];
}

/** Failures the emulator can be told to answer with instead of doing the work. */
export type InjectedError =
  /** The code real Redshift (Query) answers when rate limited: `Throttling`, HTTP 400. */
  | 'Throttling'
  /** `ThrottlingException` in both protocols (HTTP 400 Query, 429 JSON as the Serverless model says). */
  | 'ThrottlingException'
  /** HTTP 500: `InternalFailure` (Query) / `InternalServerException` (JSON). */
  | 'InternalFailure'
  /** HTTP 503: `ServiceUnavailable` (Query) / `ServiceUnavailableException` (JSON). */
  | 'ServiceUnavailable'
  /** Exactly this code, status and message in either protocol. */
  | { readonly code: string; readonly status: number; readonly message: string };

export interface Injection {
  /** Only calls of this action fail; absent: any action. */
  readonly action?: ActionName | undefined;
  readonly error: InjectedError;
  /** How many matching calls fail before the emulator answers normally again. */
  readonly times: number;
}

/** One request as the emulator saw it. Never holds a password, a secret key, a session token or a signature. */
export interface CallRecord {
  readonly at: Date;
  readonly protocol: Protocol;
  /** The action or operation name as sent (may be one the emulator does not know). */
  readonly action: string;
  /** The caller's ARN once the signature was verified. */
  readonly caller?: string | undefined;
  /** The region of the signature's credential scope, once verified: where the SDK thought it was calling. */
  readonly region?: string | undefined;
  /** The request parameters (Query names or JSON members), values redacted where the name suggests a secret. */
  readonly params: Readonly<Record<string, unknown>>;
  readonly status: number;
  /** The error code answered, if any. */
  readonly error?: string | undefined;
}

/**
 * How "the API is down" looks (`setAvailable(false, how)`):
 * - `reset`: the connection is destroyed without an answer, as a dead load balancer or a network failure; the SDK
 *   sees a socket error (ECONNRESET / "socket hang up").
 * - `503`: an HTTP 503 ServiceUnavailable answer in the request's protocol, as an overloaded endpoint.
 */
export type Unavailability = 'reset' | '503';

export interface EmulatorOptions {
  readonly principals: readonly Principal[];
  readonly clusters?: readonly ClusterConfig[] | undefined;
  readonly workgroups?: readonly WorkgroupConfig[] | undefined;
  /** Roles STS AssumeRole may hand out; the caller also needs `sts:AssumeRole` on the role in its own `allow`. */
  readonly roles?: readonly RoleConfig[] | undefined;
  /** IAM Identity Center sign-ins the SSO portal's GetRoleCredentials accepts. */
  readonly ssoSessions?: readonly SsoSessionConfig[] | undefined;
  /** IAM Identity Center OIDC: who may sign in, token lifetimes. Absent: no users, every page refuses. */
  readonly identityCenter?: IdentityCenterConfig | undefined;
  readonly dataPlane: DataPlane;
  /**
   * Overrides the lifetime of every issued credential (the requested DurationSeconds is still validated), so that
   * expiry tests run in seconds. The returned Expiration always equals the VALID UNTIL given to the data plane.
   */
  readonly lifetimeSeconds?: number | undefined;
  /** One line per request (action, caller, status, error code) — never a secret. Default: silent. */
  readonly log?: ((line: string) => void) | undefined;
}

export interface Emulator {
  /** `http://127.0.0.1:<port>`, for the SDK clients' `endpoint`. */
  readonly url: string;
  readonly port: number;
  /** Requests per known action, counted whether they succeeded or not (retries count). */
  readonly calls: Readonly<Record<ActionName, number>>;
  /** Every request in arrival order. */
  readonly callLog: readonly CallRecord[];
  /** The Identity Center OIDC service: validate tokens it issued, revoke, expire. */
  readonly identityCenter: IdentityCenterHandle;
  /** The next `times` calls matching `action` fail with `error`. Injections are consumed in the order given. */
  inject(injection: Injection): void;
  /** Every answer waits this long first (0 to stop). */
  setDelay(ms: number): void;
  setAvailable(available: boolean, how?: Unavailability): void;
  /** Change the credential lifetime override; undefined returns to the requested duration. */
  setLifetimeSeconds(seconds: number | undefined): void;
  /** Zero the counters, empty the call log and drop pending injections. */
  resetCounters(): void;
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}
