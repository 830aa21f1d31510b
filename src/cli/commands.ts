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
import { runLogin } from '../commands/login.js';
import { runLogout } from '../commands/logout.js';
import { runStatus } from '../commands/status.js';
import { configFromFlags } from '../config/from-flags.js';
import { validateConfig } from '../config/validate-config.js';
import { ADMIN, COMMON, CREDS_OUTPUT, IDC, LISTENER, PROBE, RUNNING, SERVICE, SIGN_IN, TARGET, WAIT } from './options.js';
import { DEFAULT_WAIT_SECONDS, runWait } from '../commands/wait.js';
import { runReload } from '../commands/reload.js';
import { runServicePrint } from '../commands/service-print.js';
import { adminListen } from './admin-endpoint.js';
import type { OptionGroup } from './options.js';

/** What the parser hands a command: the Config's flags and the command's own. */
export interface CommandFlags extends Flags {
  _: Array<string | number>;
  config?: string;
  user?: string;
  database?: string;
  listener?: string;
  format?: CredsFormat;
  timeout?: number;
  systemd?: boolean;
  launchd?: boolean;
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
  /** Words that may follow the command's name (service print). */
  readonly subcommands?: readonly string[];
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

/**
 * login/logout/status need no Redshift endpoint: without --config or one, every rule but the missing upstream applies.
 */
async function withSignInConfig(flags: CommandFlags, fn: (config: Config) => Promise<number>): Promise<number> {
  if (flags.config !== undefined || flags.upstream !== undefined || flags.clusterId !== undefined || flags.workgroup !== undefined) {
    return withConfig(flags, fn);
  }
  const config = configFromFlags(flags);
  const problems = validateConfig(config).filter((p) => !p.startsWith('--upstream is missing'));
  if (problems.length > 0) {
    process.stderr.write(problems.map((p) => `redshift-auth-proxy: ${p}\n`).join(''));
    return EXIT_USAGE;
  }
  return fn(config);
}

const ENDPOINT = 'my-cluster.abc123xyz.us-east-1.redshift.amazonaws.com';
const probe = (f: CommandFlags) => ({ user: f.user, database: f.database, listener: f.listener });

export const COMMANDS: readonly CommandSpec[] = [
  {
    name: 'start',
    isDefault: true,
    describe: 'Run the proxy (the default command)',
    groups: [TARGET, IDC, SIGN_IN, LISTENER, RUNNING, COMMON],
    examples: [
      { lines: ['redshift-auth-proxy --db-user analyst', `  --upstream ${ENDPOINT}`],
        note: 'then: psql "host=127.0.0.1 port=5439 dbname=dev user=analyst"' },
      { lines: ['aws sso login --profile analytics', 'redshift-auth-proxy --profile analytics', `  --upstream ${ENDPOINT}`],
        note: 'with an IAM Identity Center (SSO) profile' },
      { lines: ['redshift-auth-proxy --config ~/.config/redshift-auth-proxy.yaml', '  --http-listen 9090'],
        note: 'several clusters from a config file; health and metrics on http://127.0.0.1:9090' },
    ],
    // A reload resolves the file again under the same flags and environment: flags > env > file.
    run: (f) => withConfig(f, (config) => runStart(config, () => resolveConfig(f, f.config))),
  },
  {
    name: 'check',
    describe: 'Diagnose: AWS identity, temporary credentials, TLS login to Redshift, and a query; exit 0 when all pass',
    groups: [TARGET, IDC, SIGN_IN, PROBE, COMMON],
    examples: [
      { lines: ['redshift-auth-proxy check --user analyst', `  --upstream ${ENDPOINT}`],
        note: 'each step with ✓, or ✗ and the fix for the first one that fails' },
    ],
    run: (f) => withConfig(f, (config) => runCheck(config, probe(f))),
  },
  {
    name: 'creds',
    describe: 'Print temporary credentials (URL, env lines or JSON) for tools that take a password',
    groups: [TARGET, IDC, SIGN_IN, PROBE, CREDS_OUTPUT, COMMON],
    examples: [
      { lines: ['redshift-auth-proxy creds --db-user analyst --format env', `  --upstream ${ENDPOINT}`],
        note: 'PGHOST=… PGPASSWORD=… lines (valid 15 minutes) for a tool that needs a password' },
    ],
    run: (f) => withConfig(f, (config) => runCreds(config, { ...probe(f), format: f.format ?? 'url' })),
  },
  {
    name: 'login',
    describe: 'Sign in to IAM Identity Center (browser, or a device code with --no-browser); no AWS CLI needed',
    groups: [SIGN_IN, TARGET, COMMON],
    examples: [
      { lines: ['redshift-auth-proxy login --profile analytics'], note: 'the profile\'s sso_session (or sso_start_url), in the browser' },
      { lines: ['redshift-auth-proxy login --no-browser', '  --sso-start-url https://d-1234567890.awsapps.com/start',
        '  --sso-region us-east-1'],
        note: 'a URL and code to confirm on any device (headless machines)' },
    ],
    run: (f) => withSignInConfig(f, (config) => runLogin(config)),
  },
  {
    name: 'logout',
    describe: 'End the IAM Identity Center sign-in: the portal\'s Logout, and the cached token removed',
    groups: [SIGN_IN, TARGET, COMMON],
    examples: [{ lines: ['redshift-auth-proxy logout --profile analytics'], note: 'its tokens stop working everywhere' }],
    run: (f) => withSignInConfig(f, (config) => runLogout(config)),
  },
  {
    name: 'status',
    describe: 'Who is signed in to IAM Identity Center, until when, and which listeners use the sign-in',
    groups: [SIGN_IN, TARGET, COMMON],
    examples: [{ lines: ['redshift-auth-proxy status --config ~/.config/redshift-auth-proxy.yaml'], note: 'exit 0 when every sign-in is current' }],
    run: (f) => withSignInConfig(f, (config) => runStatus(config)),
  },
  {
    name: 'wait',
    describe: 'Exit 0 once the running proxy reports ready on its operations endpoint (init steps, scripts); 1 at the timeout',
    groups: [ADMIN, WAIT, COMMON],
    examples: [
      { lines: ['redshift-auth-proxy wait --http-listen 127.0.0.1:9090 --timeout 60'], note: 'then start what needs the proxy' },
    ],
    run: async (f) => {
      const { listen, problem } = adminListen(f, 'wait');
      if (!listen) return usageProblem(problem);
      return runWait(listen, { timeoutMs: (f.timeout ?? DEFAULT_WAIT_SECONDS) * 1000 });
    },
  },
  {
    name: 'reload',
    describe: 'Make the running proxy re-read its config file (as SIGHUP does); exit 1 with every problem when it is refused',
    groups: [ADMIN, COMMON],
    examples: [
      { lines: ['redshift-auth-proxy reload --config ~/.config/redshift-auth-proxy.yaml'], note: 'asks the proxy at that file\'s httpListen' },
    ],
    run: async (f) => {
      const { listen, problem } = adminListen(f, 'reload');
      if (!listen) return usageProblem(`${problem ?? 'no operations endpoint'} (or send the proxy SIGHUP)`);
      return runReload(listen);
    },
  },
  {
    name: 'service',
    subcommands: ['print'],
    describe: 'service print --systemd|--launchd: a user service definition with this install\'s paths, to start at login',
    groups: [SERVICE, COMMON],
    examples: [
      { lines: ['redshift-auth-proxy service print --systemd', '  --config ~/.config/redshift-auth-proxy.yaml',
        '  > ~/.config/systemd/user/redshift-auth-proxy.service'],
        note: 'then: systemctl --user daemon-reload && systemctl --user enable --now redshift-auth-proxy' },
    ],
    run: async (f) => {
      if (String(f._[1] ?? '') !== 'print') return usageProblem('service needs its action: service print --systemd|--launchd');
      if (Boolean(f.systemd) === Boolean(f.launchd)) return usageProblem('service print needs exactly one of --systemd, --launchd');
      return runServicePrint(f.systemd ? 'systemd' : 'launchd', f.config);
    },
  },
];

function usageProblem(problem: string | undefined): number {
  process.stderr.write(`redshift-auth-proxy: ${problem ?? 'bad usage'}\n`);
  return EXIT_USAGE;
}

/** The examples as help text: continuation lines end in ` \`, so each example pastes into a shell whole. */
export function renderExamples(examples: readonly Example[]): string {
  return examples.map((e) => {
    const cmd = e.lines.map((l, i) => `  ${l}${i < e.lines.length - 1 && e.lines[i + 1]?.startsWith(' ') ? ' \\' : ''}`);
    return [...cmd, `      ${e.note}`].join('\n');
  }).join('\n\n');
}
