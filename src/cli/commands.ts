/**
 * The commands: name, what --help says, the option groups each takes, copy-paste examples, and what runs. To add a
 * command, add an entry here (with its own group in options.ts when it has flags of its own).
 */
import type { Config } from '../config/config.js';
import type { Flags } from '../config/from-flags.js';
import { resolveConfig } from '../config/resolve-config.js';
import { runStart } from '../commands/start.js';
import { runCheck } from '../commands/check.js';
import { runCreds } from '../commands/creds.js';
import type { CredsFormat } from '../commands/creds.js';
import { COMMON, CREDS_OUTPUT, IDC, LISTENER, PROBE, RUNNING, TARGET } from './options.js';
import type { OptionGroup } from './options.js';

/** What the parser hands a command: the Config's flags and the command's own. */
export interface CommandFlags extends Flags {
  _: Array<string | number>;
  config?: string;
  user?: string;
  database?: string;
  listener?: string;
  format?: CredsFormat;
}

/** A command line in the help, split where a shell continuation (` \`) keeps each line short enough to paste. */
export interface Example {
  readonly lines: readonly string[];
  readonly note: string;
}

export interface CommandSpec {
  readonly name: string;
  /** True for the command that runs when none is named. */
  readonly isDefault?: boolean;
  readonly describe: string;
  readonly groups: readonly OptionGroup[];
  readonly examples: readonly Example[];
  /** Runs the command; returns the exit status. Usage problems found here return EXIT_USAGE. */
  run(flags: CommandFlags): Promise<number>;
}

export const EXIT_USAGE = 2;

/** Resolves the Config from file, env and flags, printing every problem (exit 2) or running `fn` with it. */
async function withConfig(flags: CommandFlags, fn: (config: Config) => Promise<number>): Promise<number> {
  const resolved = resolveConfig(flags, flags.config);
  if (!resolved.ok) {
    process.stderr.write(resolved.problems.map((p) => `redshift-auth-proxy: ${p}\n`).join(''));
    return EXIT_USAGE;
  }
  return fn(resolved.config);
}

const ENDPOINT = 'my-cluster.abc123xyz.us-east-1.redshift.amazonaws.com';
const probe = (f: CommandFlags) => ({ user: f.user, database: f.database, listener: f.listener });

export const COMMANDS: readonly CommandSpec[] = [
  {
    name: 'start',
    isDefault: true,
    describe: 'Run the proxy (the default command)',
    groups: [TARGET, IDC, LISTENER, RUNNING, COMMON],
    examples: [
      { lines: ['redshift-auth-proxy --db-user analyst', `  --upstream ${ENDPOINT}`],
        note: 'then: psql "host=127.0.0.1 port=5439 dbname=dev user=analyst"' },
      { lines: ['aws sso login --profile analytics', 'redshift-auth-proxy --profile analytics', `  --upstream ${ENDPOINT}`],
        note: 'with an IAM Identity Center (SSO) profile' },
      { lines: ['redshift-auth-proxy --config ~/.config/redshift-auth-proxy.yaml', '  --http-listen 9090'],
        note: 'several clusters from a config file; health and metrics on http://127.0.0.1:9090' },
    ],
    run: (f) => withConfig(f, (config) => runStart(config)),
  },
  {
    name: 'check',
    describe: 'Diagnose: AWS identity, temporary credentials, TLS login to Redshift, and a query; exit 0 when all pass',
    groups: [TARGET, IDC, PROBE, COMMON],
    examples: [
      { lines: ['redshift-auth-proxy check --user analyst', `  --upstream ${ENDPOINT}`],
        note: 'each step with ✓, or ✗ and the fix for the first one that fails' },
    ],
    run: (f) => withConfig(f, (config) => runCheck(config, probe(f))),
  },
  {
    name: 'creds',
    describe: 'Print temporary credentials (URL, env lines or JSON) for tools that take a password',
    groups: [TARGET, IDC, PROBE, CREDS_OUTPUT, COMMON],
    examples: [
      { lines: ['redshift-auth-proxy creds --db-user analyst --format env', `  --upstream ${ENDPOINT}`],
        note: 'PGHOST=… PGPASSWORD=… lines (valid 15 minutes) for a tool that needs a password' },
    ],
    run: (f) => withConfig(f, (config) => runCreds(config, { ...probe(f), format: f.format ?? 'url' })),
  },
];

/** The examples as help text: continuation lines end in ` \`, so each example pastes into a shell whole. */
export function renderExamples(examples: readonly Example[]): string {
  return examples.map((e) => {
    const cmd = e.lines.map((l, i) => `  ${l}${i < e.lines.length - 1 && e.lines[i + 1]?.startsWith(' ') ? ' \\' : ''}`);
    return [...cmd, `      ${e.note}`].join('\n');
  }).join('\n\n');
}
