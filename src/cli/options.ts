/**
 * The command-line flags, in groups; each command lists the groups it takes (commands.ts), so its --help shows
 * only those. To add a flag: add it to the group it belongs to (and to Flags and configFromFlags in config/);
 * numeric and address flags get their value check from flag-values.ts.
 */
import type { Options } from 'yargs';
import { LOG_FORMATS, LOG_LEVELS } from '../config/config.js';
import { CREDS_FORMATS } from '../commands/creds.js';
import { addressValue, numberValue } from './flag-values.js';
import type { NumberRule } from './flag-values.js';

export interface OptionGroup {
  /** Heading in --help. */
  readonly title: string;
  readonly options: Readonly<Record<string, Options>>;
}

const DAY = 86_400;
const seconds = (flag: string, describe: string, min = 0, example = '10'): Options =>
  numeric(flag, describe, { integer: false, min, max: DAY, example, unit: 'seconds' });

/** Every numeric flag with its rule (for tests and docs: one rule per flag, checked the same way). */
export const NUMERIC_FLAGS = new Map<string, NumberRule>();

function numeric(flag: string, describe: string, rule: NumberRule): Options {
  NUMERIC_FLAGS.set(flag, rule);
  // No yargs type: [string] would mislead in --help, and 'number' turns "abc" into NaN before the check sees it.
  return { describe, requiresArg: true, coerce: numberValue(flag, rule) };
}

/** What every command is given: the config file and logging. */
export const COMMON: OptionGroup = {
  title: 'General:',
  options: {
    config: { type: 'string', describe: 'YAML config file (several listeners and targets); flags and env override it' },
    'log-level': { type: 'string', choices: LOG_LEVELS, describe: 'Least severe log level written (default info)' },
    'log-format': { type: 'string', choices: LOG_FORMATS, describe: 'json lines, pretty lines, or auto: pretty on a terminal (default auto)' },
  },
};

/** Which Redshift to reach, and as whom. */
export const TARGET: OptionGroup = {
  title: 'Redshift and AWS:',
  options: {
    upstream: { type: 'string', describe: 'Redshift endpoint HOST[:PORT] (port defaults to 5439)', coerce: addressValue('upstream', 'upstream') },
    'cluster-id': { type: 'string', describe: 'Cluster identifier (read from a Redshift endpoint name when omitted)' },
    'custom-domain': { type: 'string', describe: 'The cluster\'s or workgroup\'s custom domain name: sent as CustomDomainName, and the name TLS verifies' },
    workgroup: { type: 'string', describe: 'Redshift Serverless workgroup (read from a serverless endpoint name when omitted)' },
    'with-iam': { type: 'boolean', describe: 'GetClusterCredentialsWithIAM: your IAM identity is the database user' },
    region: { type: 'string', describe: 'AWS region (read from the endpoint name or the AWS config when omitted)' },
    'db-user': { type: 'string', describe: 'Database user to request (default: the user name the client sends)' },
    'db-name': { type: 'string', describe: 'Database to request credentials for (default: the client\'s database)' },
    'db-groups': { type: 'string', describe: 'Comma-separated database groups to join' },
    'auto-create': { type: 'boolean', describe: 'Create the database user if it does not exist' },
    duration: numeric('duration', 'Credential lifetime to request, 900–3600 seconds',
      { integer: true, min: 900, max: 3600, example: '3600', unit: 'seconds' }),
    profile: { type: 'string', describe: 'AWS profile for the identity (SSO, role or keys)' },
    'assume-role': { type: 'string', describe: 'Role ARN to assume for the credential calls (cross-account)' },
    'external-id': { type: 'string', describe: 'External id for --assume-role' },
    'role-session-name': { type: 'string', describe: 'Session name for --assume-role (default redshift-auth-proxy)' },
    'aws-endpoint-url': { type: 'string', describe: 'Override the AWS API endpoint (like the AWS CLI\'s --endpoint-url)' },
    'ca-file': { type: 'string', describe: 'PEM file of extra CA certificates to trust for Redshift' },
    'connect-timeout': seconds('connect-timeout', 'Seconds allowed to reach Redshift (default 10)', 0.001),
    'db-user-from-identity': { type: 'boolean', describe: 'DbUser is your own name from STS GetCallerIdentity (IdC user name, role session or IAM user)' },
  },
};

/** IAM Identity Center sign-in: login, logout, status, and sign-in on demand in start/check/creds. */
export const SIGN_IN: OptionGroup = {
  title: 'Sign-in:',
  options: {
    'sign-in-wait': seconds('sign-in-wait', 'Seconds a connecting tool waits for the IAM Identity Center sign-in it needs (default 120; 0: no sign-in on demand)', 0, '120'),
    browser: { type: 'boolean', describe: 'Open the system browser to sign in (--no-browser: a URL and device code instead)' },
    'sign-in-port': numeric('sign-in-port', 'Port of the sign-in\'s redirect listener on 127.0.0.1 (default: any free port)',
      { integer: true, min: 0, max: 65535, example: '8400' }),
    'sso-start-url': { type: 'string', describe: 'AWS access portal URL to sign in to instead of the profile\'s (with --sso-region)' },
    'sso-region': { type: 'string', describe: 'IAM Identity Center region for --sso-start-url' },
  },
};

/** Redshift's own IAM Identity Center login (a token instead of IAM credentials). */
export const IDC: OptionGroup = {
  title: 'IAM Identity Center:',
  options: {
    'idc-issuer-url': { type: 'string', describe: 'IAM Identity Center login (Redshift\'s own integration, no IAM credentials): the instance\'s issuer URL' },
    'idc-region': { type: 'string', describe: 'Region of the Identity Center instance (with --idc-issuer-url)' },
    'idc-namespace': { type: 'string', describe: 'Identity namespace of the cluster\'s Identity Center application (default: Redshift\'s)' },
    'idc-display-name': { type: 'string', describe: 'Application name shown on the Identity Center consent page' },
    'idc-token-command': { type: 'string', describe: 'Shell command printing an Identity Center access token (non-interactive IdC login)' },
  },
};

/** Where clients connect and how they prove who they are (start only). */
export const LISTENER: OptionGroup = {
  title: 'Listener (start):',
  options: {
    listen: { type: 'string', describe: 'HOST:PORT to accept clients on (default 127.0.0.1:5439); other than loopback needs client authentication',
      coerce: addressValue('listen', 'listen') },
    'unix-socket': { type: 'string', describe: 'Accept clients on this Unix socket path instead (e.g. /tmp/rap/.s.PGSQL.5439)' },
    'allowed-users': { type: 'string', describe: 'Comma-separated client user names allowed to connect' },
    'client-password': { type: 'string', describe: 'Password clients must give (SCRAM-SHA-256); best from REDSHIFT_AUTH_PROXY_CLIENT_PASSWORD' },
    'client-password-file': { type: 'string', describe: 'File holding the client password' },
    'client-ca': { type: 'string', describe: 'PEM CA: clients must present a certificate it signed (needs client TLS)' },
    'client-tls-cert': { type: 'string', describe: 'PEM certificate the listener presents to clients (SSLRequest gets S)' },
    'client-tls-key': { type: 'string', describe: 'PEM private key for --client-tls-cert' },
    'client-tls-require': { type: 'boolean', describe: 'Refuse clients that do not ask for TLS' },
    'allow-plaintext-network': { type: 'boolean', describe: 'Let a listener beyond loopback run without client TLS (queries cross the network in the clear)' },
  },
};

/** How the running proxy behaves (start only). */
export const RUNNING: OptionGroup = {
  title: 'Running (start):',
  options: {
    'http-listen': { type: 'string', describe: 'Serve /healthz, /readyz and /metrics on HOST:PORT (or PORT, on 127.0.0.1); off by default',
      coerce: addressValue('http-listen', 'listen-or-port') },
    'http-token-file': { type: 'string', describe: 'File holding a bearer token the --http-listen endpoint asks for (required beyond loopback)' },
    'max-connections': numeric('max-connections', 'Most client sessions at once; more are refused with SQLSTATE 53300 (default: no limit)',
      { integer: true, min: 1, max: 1_000_000, example: '200' }),
    warm: numeric('warm', 'Keep N logged-in Redshift connections ready per identity and database, for instant connects',
      { integer: true, min: 0, max: 1000, example: '2' }),
    'warm-total': numeric('warm-total', 'Most --warm spares per listener in all, over every identity and client settings (default 4 x --warm)',
      { integer: true, min: 1, max: 100_000, example: '16' }),
    'warm-idle': seconds('warm-idle', 'Seconds a --warm spare may sit unused before it is closed (default 300)', 0.001, '300'),
    'max-upstream-connections': numeric('max-upstream-connections',
      'Most connections to Redshift at once: sessions, warm spares and logins together (default 200)',
      { integer: true, min: 1, max: 1_000_000, example: '200' }),
    heal: { type: 'boolean', describe: 'Heal sessions across lost Redshift connections (--no-heal: end them with 08006 instead)' },
    'idle-release': seconds('idle-release', 'Seconds after which an idle session gives its Redshift connection back (reopened on its next query); off by default', 0.001, '300'),
    'startup-timeout': seconds('startup-timeout', 'Seconds a client has to complete startup and login (default 10)', 0.001),
    'shutdown-grace': seconds('shutdown-grace', 'Seconds sessions may finish after SIGTERM/SIGINT before they are closed (default 30)', 0, '30'),
    'exit-zero-on-sigterm': { type: 'boolean', describe: 'Exit 0 instead of 143 after SIGTERM (Kubernetes Jobs, supervisors)' },
    'lazy-refresh': { type: 'boolean', describe: 'No background credential refresh: fetch when a connection needs one (CPU-throttled or suspended hosts)' },
  },
};

/** `wait` and `reload`: where the running proxy's operations endpoint is (else httpListen in --config). */
export const ADMIN: OptionGroup = {
  title: 'The running proxy:',
  options: {
    'http-listen': { type: 'string', describe: 'Its operations endpoint HOST:PORT (or PORT); default: REDSHIFT_AUTH_PROXY_HTTP_LISTEN, else httpListen in --config',
      coerce: addressValue('http-listen', 'listen-or-port') },
  },
};

/** `wait` only. */
export const WAIT: OptionGroup = {
  title: 'Waiting:',
  options: {
    timeout: seconds('timeout', 'Seconds to wait for readiness (default 30)', 0.001, '30'),
  },
};

/** `service print` only. */
export const SERVICE: OptionGroup = {
  title: 'Service definition:',
  options: {
    systemd: { type: 'boolean', describe: 'A systemd user unit (Type=notify)' },
    launchd: { type: 'boolean', describe: 'A launchd agent (macOS login item)' },
  },
};

/** `check` and `creds`: which local user (and listener) to act as. */
export const PROBE: OptionGroup = {
  title: 'Acting as a client:',
  options: {
    user: { type: 'string', describe: 'Local user name, as a client would send it (default: your login name)' },
    database: { type: 'string', describe: 'Database to request (default: --db-name, else dev)' },
    listener: { type: 'string', describe: 'With a config file of several listeners: its name or number (default: the first)' },
  },
};

/** `creds` only. */
export const CREDS_OUTPUT: OptionGroup = {
  title: 'Output:',
  options: {
    format: { type: 'string', choices: CREDS_FORMATS, describe: 'url (a postgresql:// URL), env (PG* lines) or json (default url)' },
  },
};
