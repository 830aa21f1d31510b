/**
 * The one configuration type. The CLI parser and the config-file loader only fill it; validateConfig checks it.
 */

/** What one listener connects to and as whom. */
export interface TargetConfig {
  /** Redshift endpoint host; when absent it is discovered from the cluster id or workgroup. */
  upstreamHost?: string | undefined;
  /** Redshift endpoint port (5439 unless the endpoint says otherwise). */
  upstreamPort: number;
  /** Provisioned cluster identifier (read from a Redshift endpoint host name when not given). */
  clusterId?: string | undefined;
  /** Redshift Serverless workgroup name (read from a serverless endpoint host name when not given). */
  workgroup?: string | undefined;
  /** AWS region (read from the endpoint host name, else the AWS config). */
  region?: string | undefined;
  /** Database user to request; when absent, the user name the client sent. */
  dbUser?: string | undefined;
  /** Database to request credentials for and connect to; when absent, the client's database. */
  dbName?: string | undefined;
  /** Database groups to join for the session (GetClusterCredentials DbGroups). */
  dbGroups: string[];
  /** Create the database user if it does not exist (needs redshift:CreateClusterUser). */
  autoCreate: boolean;
  /** Requested credential lifetime in seconds, 900–3600; the API default (900) when absent. */
  durationSeconds?: number | undefined;
  /** Use GetClusterCredentialsWithIAM: the caller's IAM identity becomes the database user. */
  withIam: boolean;
  /** AWS shared-config profile for the identity. */
  profile?: string | undefined;
  /** Role to assume for the credential calls (cross-account). */
  assumeRoleArn?: string | undefined;
  /** External id for --assume-role. */
  externalId?: string | undefined;
  /** AWS API endpoint override (as the AWS CLI's --endpoint-url). */
  awsEndpointUrl?: string | undefined;
  /** PEM file of extra CA certificates trusted for the upstream, in addition to Node's root store. */
  caFile?: string | undefined;
  /** When set, only these client user names are accepted. */
  allowedUsers?: string[] | undefined;
}

export interface ListenerConfig {
  /** Address to listen on; loopback unless client authentication is configured. */
  host: string;
  port: number;
  target: TargetConfig;
}

export interface Config {
  listeners: ListenerConfig[];
  /** Time a client has to send its startup packet and complete login, in ms. */
  startupTimeoutMs: number;
  /** Time allowed to reach Redshift (TCP + TLS), in ms. */
  connectTimeoutMs: number;
  /** Largest startup packet accepted, in bytes. */
  maxStartupPacket: number;
  /** pino log level. */
  logLevel: 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent';
}

export const DEFAULTS = {
  listen: '127.0.0.1:5439',
  startupTimeoutMs: 10_000,
  connectTimeoutMs: 10_000,
  maxStartupPacket: 10_000,
  logLevel: 'info',
} as const;
