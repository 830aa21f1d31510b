/**
 * The command line: yargs parses flags (and REDSHIFT_AUTH_PROXY_* environment variables) into a Config and hands it
 * to a command. Exit codes: 0 done, 1 failed, 2 bad usage, 130 SIGINT, 143 SIGTERM.
 */
import yargs from 'yargs';
import type { Flags } from './config/from-flags.js';
import { resolveConfig } from './config/resolve-config.js';
import { LOG_FORMATS, LOG_LEVELS } from './config/config.js';
import { runStart } from './commands/start.js';
import { runCheck } from './commands/check.js';
import { runCreds, CREDS_FORMATS } from './commands/creds.js';
import type { CredsFormat } from './commands/creds.js';

export const EXIT_USAGE = 2;

/** Options of `check` and `creds`: which local user (and listener) to act as. */
const probeOptions = {
  user: { type: 'string', describe: 'Local user name, as a client would send it (default: your login name)' },
  database: { type: 'string', describe: 'Database to request (default: --db-name, else dev)' },
  listener: { type: 'string', describe: 'With a config file of several listeners: its name or number (default: the first)' },
} as const;

export function buildParser(argv: string[]) {
  return yargs(argv)
    .scriptName('redshift-auth-proxy')
    .env('REDSHIFT_AUTH_PROXY')
    .usage('$0 [command] [options]\n\nA local PostgreSQL-protocol proxy that logs your tools into Amazon Redshift with temporary IAM credentials over verified TLS.')
    // Every option is declared for every command: REDSHIFT_AUTH_PROXY_* variables set for one command (FORMAT for
    // creds) must not make another one fail as an unknown argument. .group() keeps --help readable.
    .command(['start', '$0'], 'Run the proxy (the default command)')
    .command('check', 'Diagnose: AWS identity, temporary credentials, TLS login to Redshift, and a query; exit 0 when all pass')
    .command('creds', 'Print temporary credentials (URL, env lines or JSON) for tools that take a password')
    .option('http-listen', { type: 'string', describe: 'Serve /healthz, /readyz and /metrics on HOST:PORT (or PORT, on 127.0.0.1); off by default' })
    .option('shutdown-grace', { type: 'number', describe: 'Seconds sessions may finish after SIGTERM/SIGINT before they are closed (default 30)' })
    .option('max-connections', { type: 'number', describe: 'Most client sessions at once; more are refused with SQLSTATE 53300 (default: no limit)' })
    .group(['http-listen', 'shutdown-grace', 'max-connections'], 'Running (start):')
    .options(probeOptions)
    .option('format', { choices: CREDS_FORMATS, describe: 'creds: url (a postgresql:// URL), env (PG* lines) or json (default url)' })
    .group(['user', 'database', 'listener', 'format'], 'check and creds:')
    .option('config', { type: 'string', describe: 'YAML config file (several listeners and targets); flags and env override it' })
    .option('listen', { type: 'string', describe: 'HOST:PORT to accept clients on, loopback only (default 127.0.0.1:5439)' })
    .option('client-password', { type: 'string', describe: 'Password clients must give (SCRAM-SHA-256); best from REDSHIFT_AUTH_PROXY_CLIENT_PASSWORD' })
    .option('client-password-file', { type: 'string', describe: 'File holding the client password' })
    .option('client-ca', { type: 'string', describe: 'PEM CA: clients must present a certificate it signed (needs client TLS)' })
    .option('client-tls-cert', { type: 'string', describe: 'PEM certificate the listener presents to clients (SSLRequest gets S)' })
    .option('client-tls-key', { type: 'string', describe: 'PEM private key for --client-tls-cert' })
    .option('client-tls-require', { type: 'boolean', describe: 'Refuse clients that do not ask for TLS' })
    .option('unix-socket', { type: 'string', describe: 'Accept clients on this Unix socket path instead (e.g. /tmp/rap/.s.PGSQL.5439)' })
    .option('upstream', { type: 'string', describe: 'Redshift endpoint HOST[:PORT] (port defaults to 5439)' })
    .option('cluster-id', { type: 'string', describe: 'Cluster identifier (read from a Redshift endpoint name when omitted)' })
    .option('workgroup', { type: 'string', describe: 'Redshift Serverless workgroup (read from a serverless endpoint name when omitted)' })
    .option('with-iam', { type: 'boolean', describe: 'GetClusterCredentialsWithIAM: your IAM identity is the database user' })
    .option('region', { type: 'string', describe: 'AWS region (read from the endpoint name or the AWS config when omitted)' })
    .option('db-user', { type: 'string', describe: 'Database user to request (default: the user name the client sends)' })
    .option('db-name', { type: 'string', describe: 'Database to request credentials for (default: the client\'s database)' })
    .option('db-groups', { type: 'string', describe: 'Comma-separated database groups to join' })
    .option('auto-create', { type: 'boolean', describe: 'Create the database user if it does not exist' })
    .option('duration', { type: 'number', describe: 'Credential lifetime to request, 900–3600 seconds' })
    .option('profile', { type: 'string', describe: 'AWS profile for the identity (SSO, role or keys)' })
    .option('assume-role', { type: 'string', describe: 'Role ARN to assume for the credential calls (cross-account)' })
    .option('external-id', { type: 'string', describe: 'External id for --assume-role' })
    .option('role-session-name', { type: 'string', describe: 'Session name for --assume-role (default redshift-auth-proxy)' })
    .option('aws-endpoint-url', { type: 'string', describe: 'Override the AWS API endpoint (like the AWS CLI\'s --endpoint-url)' })
    .option('ca-file', { type: 'string', describe: 'PEM file of extra CA certificates to trust for Redshift' })
    .option('allowed-users', { type: 'string', describe: 'Comma-separated client user names allowed to connect' })
    .option('idc-issuer-url', { type: 'string', describe: 'IAM Identity Center login (Redshift\'s own integration, no IAM credentials): the instance\'s issuer URL' })
    .option('idc-region', { type: 'string', describe: 'Region of the Identity Center instance (with --idc-issuer-url)' })
    .option('idc-namespace', { type: 'string', describe: 'Identity namespace of the cluster\'s Identity Center application (default: Redshift\'s)' })
    .option('idc-display-name', { type: 'string', describe: 'Application name shown on the Identity Center consent page' })
    .option('idc-token-command', { type: 'string', describe: 'Shell command printing an Identity Center access token (non-interactive IdC login)' })
    .group(['idc-issuer-url', 'idc-region', 'idc-namespace', 'idc-display-name', 'idc-token-command'], 'IAM Identity Center:')
    .option('heal', { type: 'boolean', describe: 'Heal sessions across lost Redshift connections (--no-heal: end them with 08006 instead)' })
    .option('warm', { type: 'number', describe: 'Keep N logged-in Redshift connections ready per identity and database, for instant connects' })
    .option('idle-release', { type: 'number', describe: 'Seconds after which an idle session gives its Redshift connection back (reopened on its next query); off by default' })
    .option('startup-timeout', { type: 'number', describe: 'Seconds a client has to complete startup and login (default 10)' })
    .option('connect-timeout', { type: 'number', describe: 'Seconds allowed to reach Redshift (default 10)' })
    .option('log-level', { type: 'string', choices: LOG_LEVELS, describe: 'Least severe log level written (default info)' })
    .option('log-format', { type: 'string', choices: LOG_FORMATS, describe: 'json lines, pretty lines, or auto: pretty on a terminal (default auto)' })
    .example('$0 --upstream my-cluster.abc123xyz.us-east-1.redshift.amazonaws.com --db-user analyst',
      'then: psql "host=127.0.0.1 port=5439 dbname=dev user=analyst"')
    .example('$0 --upstream my-cluster.abc123xyz.us-east-1.redshift.amazonaws.com --profile analytics-sso',
      'use an IAM Identity Center profile (run aws sso login --profile analytics-sso first)')
    .example('$0 --config ~/.config/redshift-auth-proxy.yaml --http-listen 9090',
      'several clusters from a config file; health and metrics on http://127.0.0.1:9090')
    .example('$0 check --upstream my-cluster.abc123xyz.us-east-1.redshift.amazonaws.com --user analyst',
      'check the AWS identity, the credentials, the TLS login and a query, printing the fix for each failure')
    .example('$0 creds --upstream my-cluster.abc123xyz.us-east-1.redshift.amazonaws.com --db-user analyst --format env',
      'print PGHOST=… PGPASSWORD=… lines (valid 15 minutes) for a tool that needs a password')
    .epilogue('Every option can also be set as an environment variable: REDSHIFT_AUTH_PROXY_DB_USER=analyst is --db-user analyst. '
      + 'Precedence: flags, then environment, then --config file. Exit status: 0 done, 1 failed, 2 bad usage, 130 SIGINT, 143 SIGTERM.')
    .strict()
    .help()
    .version(false)
    .wrap(Math.min(120, process.stdout.columns || 100));
}

/** What the parser hands over besides the Config's flags. */
interface CommandFlags extends Flags {
  _: Array<string | number>;
  config?: string;
  user?: string;
  database?: string;
  listener?: string;
  format?: CredsFormat;
}

export async function main(argv: string[]): Promise<number> {
  let usageError: string | undefined;
  const flags = await buildParser(argv)
    .fail((msg, err) => {
      usageError = msg || err?.message || 'invalid arguments';
    })
    .parseAsync() as unknown as CommandFlags;
  if (usageError) {
    process.stderr.write(`redshift-auth-proxy: ${usageError}\nRun with --help for usage.\n`);
    return EXIT_USAGE;
  }
  const resolved = resolveConfig(flags, flags.config);
  if (!resolved.ok) {
    process.stderr.write(resolved.problems.map((p) => `redshift-auth-proxy: ${p}\n`).join(''));
    return EXIT_USAGE;
  }
  const probe = { user: flags.user, database: flags.database, listener: flags.listener };
  switch (String(flags._[0] ?? 'start')) {
    case 'check':
      return runCheck(resolved.config, probe);
    case 'creds':
      return runCreds(resolved.config, { ...probe, format: flags.format ?? 'url' });
    default:
      return runStart(resolved.config);
  }
}
