/**
 * The command line: yargs parses flags (and REDSHIFT_AUTH_PROXY_* environment variables) into a Config and hands it
 * to a command. Exit codes: 0 done, 1 failed, 2 bad usage, 130 SIGINT, 143 SIGTERM.
 */
import yargs from 'yargs';
import { configFromFlags } from './config/from-flags.js';
import type { Flags } from './config/from-flags.js';
import { validateConfig } from './config/validate-config.js';
import { runStart } from './commands/start.js';

export const EXIT_USAGE = 2;

export function buildParser(argv: string[]) {
  return yargs(argv)
    .scriptName('redshift-auth-proxy')
    .env('REDSHIFT_AUTH_PROXY')
    .usage('$0 [options]\n\nA local PostgreSQL-protocol proxy that logs your tools into Amazon Redshift with temporary IAM credentials over verified TLS.')
    .option('listen', { type: 'string', default: '127.0.0.1:5439', describe: 'HOST:PORT to accept clients on (loopback)' })
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
    .option('aws-endpoint-url', { type: 'string', describe: 'Override the AWS API endpoint (like the AWS CLI\'s --endpoint-url)' })
    .option('ca-file', { type: 'string', describe: 'PEM file of extra CA certificates to trust for Redshift' })
    .option('allowed-users', { type: 'string', describe: 'Comma-separated client user names allowed to connect' })
    .option('idle-release', { type: 'number', describe: 'Seconds after which an idle session gives its Redshift connection back (reopened on its next query); off by default' })
    .option('startup-timeout', { type: 'number', default: 10, describe: 'Seconds a client has to complete startup and login' })
    .option('connect-timeout', { type: 'number', default: 10, describe: 'Seconds allowed to reach Redshift' })
    .option('shutdown-grace', { type: 'number', default: 30, describe: 'Seconds sessions may finish after SIGTERM/SIGINT' })
    .option('log-level', { type: 'string', default: 'info', choices: ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] })
    .example('$0 --upstream my-cluster.abc123xyz.us-east-1.redshift.amazonaws.com --db-user analyst',
      'then: psql "host=127.0.0.1 port=5439 dbname=dev user=analyst"')
    .example('$0 --upstream my-cluster.abc123xyz.us-east-1.redshift.amazonaws.com --profile analytics-sso',
      'use an IAM Identity Center profile (run aws sso login --profile analytics-sso first)')
    .strict()
    .help()
    .version(false)
    .wrap(Math.min(120, process.stdout.columns || 100));
}

export async function main(argv: string[]): Promise<number> {
  let usageError: string | undefined;
  const flags = await buildParser(argv)
    .fail((msg, err) => {
      usageError = msg || err?.message || 'invalid arguments';
    })
    .parseAsync();
  if (usageError) {
    process.stderr.write(`redshift-auth-proxy: ${usageError}\nRun with --help for usage.\n`);
    return EXIT_USAGE;
  }
  const config = configFromFlags(flags as Flags);
  const problems = validateConfig(config);
  if (problems.length > 0) {
    process.stderr.write(problems.map((p) => `redshift-auth-proxy: ${p}\n`).join(''));
    return EXIT_USAGE;
  }
  return runStart(config, { shutdownGraceMs: (flags['shutdown-grace'] as number) * 1000 });
}
