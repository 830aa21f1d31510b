/**
 * What the five operations do, independent of how they travel: the protocol modules decode parameters into these
 * inputs and encode the results; every refusal is an `ApiFault` built for the caller's protocol.
 *
 * Facts this follows (API references for GetClusterCredentials, GetClusterCredentialsWithIAM and Serverless
 * GetCredentials; IAM's service authorization reference for Redshift):
 * - GetClusterCredentials names the database user: the login name is `IAM:<DbUser>`, or `IAMA:<DbUser>` when
 *   AutoCreate is true (AWS's guide, /work/shared/reference/aws-get-cluster-credentials-guide.txt). Real Redshift
 *   strips the prefix at login and would append `:<group>` suffixes for DbGroups; our data plane is plain
 *   PostgreSQL, so the returned name *is* the role name and groups are granted to the role instead.
 * - GetClusterCredentialsWithIAM and Serverless GetCredentials take the user from the caller: an IAM user
 *   `…:user/alice` logs in as `IAM:alice`, an assumed role `…:assumed-role/Analyst/sess` as `IAMR:Analyst`, and the
 *   user is created on first use.
 * - DurationSeconds is 900–3600, default 900.
 * - With AutoCreate false and no such user, Redshift still returns credentials (the login fails later), so the
 *   emulator answers and leaves the database alone.
 * - IAM checks: `redshift:GetClusterCredentials` on `dbuser:<cluster>/<user>` (and `dbname:<cluster>/<db>` when
 *   DbName is given), `redshift:CreateClusterUser` on the dbuser for AutoCreate, `redshift:JoinGroup` on
 *   `dbgroup:<cluster>/<group>` per group.
 */
import { createHash, randomBytes } from 'node:crypto';
import { ApiFault, accessDenied, invalidParameter, missingParameter } from './faults.js';
import type { ClusterConfig, DataPlane, Principal, Protocol, WorkgroupConfig } from './types.js';

/** Who is calling, as established by signature verification. */
export interface CallContext {
  readonly protocol: Protocol;
  readonly principal: Principal;
  /** The region of the credential scope: the API endpoint's region. */
  readonly region: string;
}

export interface ClusterCredentialsInput {
  readonly clusterIdentifier?: string | undefined;
  readonly customDomainName?: string | undefined;
  readonly dbUser?: string | undefined;
  readonly dbName?: string | undefined;
  readonly dbGroups: readonly string[];
  readonly autoCreate: boolean;
  readonly durationSeconds?: number | undefined;
}

export interface ClusterIamCredentialsInput {
  readonly clusterIdentifier?: string | undefined;
  readonly customDomainName?: string | undefined;
  readonly dbName?: string | undefined;
  readonly durationSeconds?: number | undefined;
}

export interface ServerlessCredentialsInput {
  readonly workgroupName?: string | undefined;
  readonly customDomainName?: string | undefined;
  readonly dbName?: string | undefined;
  readonly durationSeconds?: number | undefined;
}

export interface IssuedCredentials {
  readonly dbUser: string;
  readonly dbPassword: string;
  /** Equal to the VALID UNTIL the data plane set; whole seconds so every wire format carries it exactly. */
  readonly expiration: Date;
  /** When a caller should come back for a new password: the emulator says "at expiry". */
  readonly nextRefreshTime: Date;
}

export interface WorkgroupView extends WorkgroupConfig {
  readonly id: string;
  readonly arn: string;
}

export interface ControlPlaneSettings {
  readonly clusters: readonly ClusterConfig[];
  readonly workgroups: readonly WorkgroupConfig[];
  readonly dataPlane: DataPlane;
  /** The lifetime override in seconds, read at each issue so tests can change it between calls. */
  readonly lifetimeSeconds: () => number | undefined;
}

const MIN_DURATION = 900;
const MAX_DURATION = 3600;
const DEFAULT_DURATION = 900;

/**
 * Redshift's rule for DbUser and DbGroups: 1–64 characters, a letter first, then letters, digits, `_ + . @ -`;
 * no colon or slash (the colon separates the IAM prefix).
 */
const DB_IDENTIFIER = /^[A-Za-z][A-Za-z0-9_+.@-]{0,63}$/;

export class ControlPlane {
  /** Issues for one user run one after another, so a CREATE never races another CREATE of the same role. */
  private readonly issuing = new Map<string, Promise<unknown>>();

  constructor(private readonly settings: ControlPlaneSettings) {}

  async getClusterCredentials(ctx: CallContext, input: ClusterCredentialsInput): Promise<IssuedCredentials> {
    if (input.dbUser === undefined || input.dbUser === '') throw missingParameter(ctx.protocol, 'DbUser');
    const duration = this.duration(ctx, input.durationSeconds);
    checkIdentifier(ctx, 'DbUser', input.dbUser);
    for (const group of input.dbGroups) checkIdentifier(ctx, 'DbGroups', group);
    const cluster = this.cluster(ctx, input.clusterIdentifier, input.customDomainName);

    const arn = arnBuilder(ctx, 'redshift');
    const dbUserArn = arn(`dbuser:${cluster.id}/${input.dbUser}`);
    authorize(ctx, 'redshift:GetClusterCredentials', dbUserArn);
    if (input.dbName !== undefined) authorize(ctx, 'redshift:GetClusterCredentials', arn(`dbname:${cluster.id}/${input.dbName}`));
    if (input.autoCreate) authorize(ctx, 'redshift:CreateClusterUser', dbUserArn);
    for (const group of input.dbGroups) authorize(ctx, 'redshift:JoinGroup', arn(`dbgroup:${cluster.id}/${group}`));

    const loginName = `${input.autoCreate ? 'IAMA' : 'IAM'}:${input.dbUser}`;
    return this.issue(ctx, cluster.id, loginName, duration, input.autoCreate, input.dbGroups);
  }

  async getClusterCredentialsWithIAM(ctx: CallContext, input: ClusterIamCredentialsInput): Promise<IssuedCredentials> {
    const duration = this.duration(ctx, input.durationSeconds);
    const cluster = this.cluster(ctx, input.clusterIdentifier, input.customDomainName);
    const arn = arnBuilder(ctx, 'redshift');
    authorize(ctx, 'redshift:GetClusterCredentialsWithIAM',
      input.dbName !== undefined ? arn(`dbname:${cluster.id}/${input.dbName}`) : arn(`cluster:${cluster.id}`));
    return this.issue(ctx, cluster.id, identityDbUser(ctx), duration, true, []);
  }

  describeClusters(ctx: CallContext, clusterIdentifier: string | undefined): readonly ClusterConfig[] {
    const arn = arnBuilder(ctx, 'redshift');
    if (clusterIdentifier === undefined) {
      authorize(ctx, 'redshift:DescribeClusters', arn('cluster:*'));
      return this.settings.clusters.filter((c) => c.region === ctx.region);
    }
    const cluster = this.cluster(ctx, clusterIdentifier, undefined);
    authorize(ctx, 'redshift:DescribeClusters', arn(`cluster:${cluster.id}`));
    return [cluster];
  }

  async getServerlessCredentials(ctx: CallContext, input: ServerlessCredentialsInput): Promise<IssuedCredentials> {
    const duration = this.duration(ctx, input.durationSeconds);
    const workgroup = this.workgroup(ctx, input.workgroupName, input.customDomainName);
    authorize(ctx, 'redshift-serverless:GetCredentials', workgroup.arn);
    return this.issue(ctx, workgroup.name, identityDbUser(ctx), duration, true, []);
  }

  getWorkgroup(ctx: CallContext, workgroupName: string | undefined): WorkgroupView {
    if (workgroupName === undefined) throw missingParameter(ctx.protocol, 'workgroupName');
    const workgroup = this.workgroup(ctx, workgroupName, undefined);
    authorize(ctx, 'redshift-serverless:GetWorkgroup', workgroup.arn);
    return workgroup;
  }

  private duration(ctx: CallContext, requested: number | undefined): number {
    if (requested === undefined) return DEFAULT_DURATION;
    if (!Number.isInteger(requested) || requested < MIN_DURATION || requested > MAX_DURATION) {
      throw invalidParameter(ctx.protocol,
        `The value for DurationSeconds must be between ${MIN_DURATION} and ${MAX_DURATION} seconds; got ${requested}.`);
    }
    return requested;
  }

  /** Clusters are regional and their identifiers case-insensitive; a custom domain name may stand in for the id. */
  private cluster(ctx: CallContext, id: string | undefined, domain: string | undefined): ClusterConfig {
    if (id === undefined && domain === undefined) {
      throw invalidParameter(ctx.protocol, 'Either ClusterIdentifier or CustomDomainName must be specified.');
    }
    const found = this.settings.clusters.find((c) => c.region === ctx.region &&
      (id !== undefined ? c.id.toLowerCase() === id.toLowerCase() : c.customDomainName === domain));
    if (!found) {
      throw new ApiFault('ClusterNotFound', 404,
        id !== undefined ? `Cluster ${id} not found.` : `Cluster with custom domain name ${domain} not found.`);
    }
    return found;
  }

  /**
   * Real Serverless answers a missing workgroup with HTTP 400 (not the model's 404) and the text "Serverless
   * workgroup <name> not found." — as seen in the Redshift JDBC driver's bug reports.
   */
  private workgroup(ctx: CallContext, name: string | undefined, domain: string | undefined): WorkgroupView {
    if (name === undefined && domain === undefined) {
      throw invalidParameter(ctx.protocol, 'Either workgroupName or customDomainName must be specified.');
    }
    const found = this.settings.workgroups.find((w) => w.region === ctx.region &&
      (name !== undefined ? w.name === name : w.customDomainName === domain));
    if (!found) {
      const label = name ?? domain ?? '';
      throw new ApiFault('ResourceNotFoundException', 400, `Serverless workgroup ${label} not found.`,
        { resourceName: label });
    }
    const id = found.id ?? uuidFrom(`workgroup:${found.name}`);
    return { ...found, id, arn: arnBuilder(ctx, 'redshift-serverless')(`workgroup/${id}`) };
  }

  /**
   * Picks a password and expiry and makes the data plane honour them.
   *
   * Groups are checked against the data plane before anything changes. Real GetClusterCredentials never looks
   * into the database — a missing group only fails at login — but this emulator issues the grant at API time, so
   * it must fail at API time; it answers as Redshift answers a parameter naming something that is not there:
   * HTTP 400 `InvalidParameterValue` (JSON: `ValidationException`).
   */
  private async issue(ctx: CallContext, target: string, dbUser: string, durationSeconds: number,
    autoCreate: boolean, groups: readonly string[]): Promise<IssuedCredentials> {
    const lifetime = this.settings.lifetimeSeconds() ?? durationSeconds;
    const expiration = new Date(Math.floor(Date.now() / 1000) * 1000 + lifetime * 1000);
    const password = newPassword();
    const dataPlane = this.settings.dataPlane;
    await this.serialized(dbUser, async () => {
      for (const group of groups) {
        if (!(await dataPlane.groupExists(group))) {
          throw invalidParameter(ctx.protocol, `Database group ${group} does not exist in ${target}.`);
        }
      }
      const exists = await dataPlane.userExists(dbUser);
      if (!exists && !autoCreate) return;
      await dataPlane.issue(dbUser, password, expiration, { create: !exists, groups: [...groups] });
    });
    return { dbUser, dbPassword: password, expiration, nextRefreshTime: expiration };
  }

  private async serialized(key: string, work: () => Promise<void>): Promise<void> {
    const previous = this.issuing.get(key) ?? Promise.resolve();
    const mine = previous.catch(() => undefined).then(work);
    this.issuing.set(key, mine);
    try {
      await mine;
    } finally {
      if (this.issuing.get(key) === mine) this.issuing.delete(key);
    }
  }
}

/** The database user an identity-based call logs in as, from the caller's ARN. */
function identityDbUser(ctx: CallContext): string {
  const arn = ctx.principal.arn;
  const resource = arn.split(':').slice(5).join(':');
  const user = /^user\/(?:.*\/)?([^/]+)$/.exec(resource);
  if (user?.[1]) return `IAM:${user[1]}`;
  const role = /^assumed-role\/([^/]+)\/[^/]+$/.exec(resource);
  if (role?.[1]) return `IAMR:${role[1]}`;
  const message = `The caller ${arn} is neither an IAM user nor an assumed role; no database user can be derived from it.`;
  throw ctx.protocol === 'query'
    ? new ApiFault('UnsupportedOperation', 400, message)
    : new ApiFault('ValidationException', 400, message);
}

function authorize(ctx: CallContext, iamAction: string, resource: string): void {
  const allow = ctx.principal.allow;
  if (allow && !allow(iamAction, resource)) throw accessDenied(ctx.protocol, ctx.principal.arn, iamAction, resource);
}

function checkIdentifier(ctx: CallContext, parameter: string, value: string): void {
  if (!DB_IDENTIFIER.test(value)) {
    throw invalidParameter(ctx.protocol, `${parameter} "${value}" is not valid: it must be 1 to 64 characters, ` +
      'begin with a letter and contain only letters, digits, underscore, plus, period, at sign or hyphen.');
  }
}

/** `arn:<partition>:<service>:<region>:<account>:<resource>`, with the caller's partition and account. */
function arnBuilder(ctx: CallContext, service: string): (resource: string) => string {
  const parts = ctx.principal.arn.split(':');
  const partition = parts[1] ?? 'aws';
  const account = parts[4] ?? '000000000000';
  return (resource) => `arn:${partition}:${service}:${ctx.region}:${account}:${resource}`;
}

/** 32 url-safe characters from 24 random bytes: no quoting trouble in SQL literals, URLs or connection strings. */
function newPassword(): string {
  return randomBytes(24).toString('base64url');
}

function uuidFrom(seed: string): string {
  const h = createHash('sha256').update(seed).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}
