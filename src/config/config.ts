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
  /**
   * The cluster's or workgroup's custom domain name (a CNAME with its own certificate): sent as CustomDomainName to
   * the credential API instead of needing the identifier, the upstream host when none is given, and the name the
   * server's TLS certificate must carry.
   */
  customDomain?: string | undefined;
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
  /** Role session name for --assume-role (shows in CloudTrail and, for role identities, in the IAMR: user); default redshift-auth-proxy. */
  roleSessionName?: string | undefined;
  /** AWS API endpoint override (as the AWS CLI's --endpoint-url). */
  awsEndpointUrl?: string | undefined;
  /** PEM file of extra CA certificates trusted for the upstream, in addition to Node's root store. */
  caFile?: string | undefined;
  /** When set, only these client user names are accepted. */
  allowedUsers?: string[] | undefined;
  /**
   * Per local user name (what the client sends as its user): the database user and groups to request instead of
   * the target's. Users not listed get the target's settings. Provisioned clusters without --with-iam only.
   */
  users?: Record<string, UserMapping> | undefined;
  /**
   * IAM Identity Center: log in with Redshift's own Identity Center integration (AUTH_REQ_IDP) — the database user
   * is the signed-in person (`AWSIDC:alice@example.com`), no GetClusterCredentials call is made. The instance's
   * issuer URL (https://identitycenter.amazonaws.com/ssoins-…), as the Redshift drivers' `issuer_url`.
   */
  idcIssuerUrl?: string | undefined;
  /** The region of the Identity Center instance (the drivers' `idc_region`); needed with idcIssuerUrl. */
  idcRegion?: string | undefined;
  /** The cluster's identity namespace (startup parameter `identity_namespace`); Redshift's default when absent. */
  idcNamespace?: string | undefined;
  /** The application name people see on the consent page, also sent as `idc_client_display_name`. */
  idcDisplayName?: string | undefined;
  /**
   * Non-interactive Identity Center (CI, schedulers): a shell command whose standard output is the access token
   * (or the AWS CLI's token-cache JSON with accessToken and expiresAt). Runs when a token is needed, not per login.
   */
  idcTokenCommand?: string | undefined;
  /**
   * --db-user-from-identity: the DbUser of GetClusterCredentials is the caller's own name, read once per identity
   * from STS GetCallerIdentity — the role session name (for an Identity Center permission set, the person's IdC
   * user name) or the IAM user name. The client's user name and --db-user are not used.
   */
  dbUserFromIdentity?: boolean | undefined;
}

/** One local user's identity on the target (config file `users:` map). */
export interface UserMapping {
  /** Database user to request for this local user. */
  dbUser?: string | undefined;
  /** Database groups to join instead of the target's dbGroups. */
  dbGroups?: string[] | undefined;
}

/** How clients prove who they are to a listener. */
export interface ClientAuthConfig {
  /** Password clients must give, checked with SCRAM-SHA-256 (the proxy keeps only a salted verifier). */
  password?: string | undefined;
  /** File holding that password (first line), read at start; for secrets mounted as files. */
  passwordFile?: string | undefined;
  /** PEM CA whose client certificates are accepted (needs clientTls). */
  caFile?: string | undefined;
}

export interface ClientTlsConfig {
  /** PEM certificate (chain) the listener presents. */
  certFile: string;
  /** PEM private key for certFile. */
  keyFile: string;
  /** Refuse clients that do not ask for TLS. */
  require: boolean;
}

export interface ListenerConfig {
  /** A short name for logs and metrics labels; defaults to the address. */
  name?: string | undefined;
  /** Address to listen on; loopback unless client authentication is configured. Ignored with unixSocket. */
  host: string;
  /** TCP port (0 picks a free one). Ignored with unixSocket. */
  port: number;
  /**
   * Listen on this Unix-domain socket path instead of TCP. libpq clients expect the name `.s.PGSQL.<port>` in a
   * directory they are given as host (psql "host=/run/rap port=5439" opens /run/rap/.s.PGSQL.5439).
   */
  unixSocket?: string | undefined;
  /** Most sessions this listener runs at once; more are refused with SQLSTATE 53300. Unlimited when absent. */
  maxConnections?: number | undefined;
  /** Who may connect: required on any listener that is not loopback or a Unix socket. */
  clientAuth?: ClientAuthConfig | undefined;
  /** TLS towards clients (SSLRequest answered 'S'); without it SSLRequest gets 'N'. */
  clientTls?: ClientTlsConfig | undefined;
  target: TargetConfig;
}

/** Where the health and metrics HTTP server listens (--http-listen). */
export interface HttpListenConfig {
  host: string;
  port: number;
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
  logLevel: LogLevel;
  /** Log line format: JSON lines, readable lines, or readable only when stderr is a terminal (auto, the default). */
  logFormat?: LogFormat | undefined;
  /** How long sessions may finish after SIGTERM/SIGINT before they are closed with 57P01, in ms (default 30 s). */
  shutdownGraceMs?: number | undefined;
  /** Most sessions across all listeners at once; more are refused with SQLSTATE 53300. Unlimited when absent. */
  maxConnections?: number | undefined;
  /** Heal sessions across upstream loss (tracks session state as bytes pass); on unless false (--no-heal). */
  heal?: boolean | undefined;
  /** Spare logged-in upstream connections kept ready per identity and database (--warm); off when absent or 0. */
  warm?: number | undefined;
  /** Spares kept per listener in all, over every identity and parameter set (--warm-total); default 4 × warm. */
  warmTotal?: number | undefined;
  /** A warm spare unused this long is closed, in ms (--warm-idle); default 300 s. */
  warmIdleMs?: number | undefined;
  /**
   * Most connections to Redshift the proxy holds at once — sessions, warm spares and logins in flight, over every
   * listener (--max-upstream-connections); default 200. When spent, a spare is closed to make room, else 53300.
   */
  maxUpstreamConnections?: number | undefined;
  /**
   * Let a listener beyond loopback run without client TLS (--allow-plaintext-network): its password exchange is
   * SCRAM, but every query and result crosses the network readable by anyone on the path. Off by default.
   */
  allowPlaintextNetwork?: boolean | undefined;
  /** File holding the bearer token the operations endpoint asks for (--http-token-file); needed beyond loopback. */
  httpTokenFile?: string | undefined;
  /** An idle session gives its upstream connection back after this many ms and reopens it on its next message; off when absent. */
  idleReleaseMs?: number | undefined;
  /** The /healthz, /readyz and /metrics server; off when absent. */
  httpListen?: HttpListenConfig | undefined;
  /**
   * Sign-in on demand: how long a client's startup is held while the IAM Identity Center sign-in it needs is
   * completed in the browser (--sign-in-wait, in ms; default 120 s); 0 turns sign-in on demand off.
   */
  signInWaitMs?: number | undefined;
  /** --no-browser: sign in with a device code (URL and code printed or sent to the client) instead of the browser. */
  noBrowser?: boolean | undefined;
  /** --sign-in-port: the port of the sign-in's loopback redirect listener on 127.0.0.1 (default: any free port). */
  signInPort?: number | undefined;
  /** --sso-start-url: the AWS access portal URL to sign in to when no profile names one (login, logout, status). */
  ssoStartUrl?: string | undefined;
  /** --sso-region: the Identity Center region that goes with --sso-start-url. */
  ssoRegion?: string | undefined;
  /**
   * No background work between connections (--lazy-refresh): credentials are fetched when a connection needs one,
   * never refreshed ahead on a timer; for hosts whose CPU is throttled or suspended between requests. Off when absent.
   */
  lazyRefresh?: boolean | undefined;
  /** Exit with status 0 instead of 143 after SIGTERM (a Job's or a supervisor's clean stop); off when absent. */
  exitZeroOnSigterm?: boolean | undefined;
}

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
export { LOG_FORMATS } from '../ops/logger.js';
import type { LogFormat } from '../ops/logger.js';
export type { LogFormat } from '../ops/logger.js';

export const DEFAULTS = {
  listen: '127.0.0.1:5439',
  startupTimeoutMs: 10_000,
  connectTimeoutMs: 10_000,
  maxStartupPacket: 10_000,
  logLevel: 'info',
  logFormat: 'auto',
  shutdownGraceMs: 30_000,
  maxUpstreamConnections: 200,
  warmIdleMs: 300_000,
  /** --warm-total, per --warm spare. */
  warmTotalPerSpare: 4,
  httpHost: '127.0.0.1',
  signInWaitMs: 120_000,
} as const;
