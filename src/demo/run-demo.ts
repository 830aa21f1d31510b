/**
 * `demo`: the whole product on an embedded default. Starts the demo stack (demo-stack.ts), then either prints how
 * to connect and runs until SIGINT (exit 130) / SIGTERM (exit 143), or with --self-test drives it across a
 * credential expiry and exits 0 when every step passed, 1 when one failed. Bad usage exits 2.
 */
import { fileURLToPath } from 'node:url';
import yargs from 'yargs';
import { DEMO_DB_USER, DEMO_IDC_LOGIN, DEMO_IDENTITY_ARN, DEMO_LOGIN_NAME, DEMO_SIGN_IN_LOGIN } from './control-plane.js';
import { PortInUseError, startDemoStack } from './demo-stack.js';
import type { DemoStack } from './demo-stack.js';
import { DEMO_DATABASE } from './embedded-database.js';
import { runSelfTest } from './self-test.js';
import { runIdcSelfTest } from './idc-self-test.js';
import { runSignInSelfTest } from './sign-in-self-test.js';
import type { Print } from './story-log.js';

export const EXIT_USAGE = 2;
const SIGNAL_EXIT: Readonly<Record<string, number>> = { SIGINT: 130, SIGTERM: 143 };

export interface DemoArgs {
  /** The proxy's port; 5439 for the demo, 0 (any free port) for the self-test unless given. */
  readonly port: number;
  /** Seconds each temporary password lives: 60 for the demo, 3 for the self-test unless given. */
  readonly lifetimeSeconds: number;
  readonly selfTest: boolean;
  /** Redshift's own IAM Identity Center login instead of GetClusterCredentials. */
  readonly idc: boolean;
  /** Start with nobody signed in: the first tool triggers the IAM Identity Center sign-in; sessions run as the person. */
  readonly signIn?: boolean | undefined;
}

/** Parses the demo's flags; returns a usage message instead when they are wrong. */
export async function parseDemoArgs(argv: readonly string[]): Promise<DemoArgs | { readonly usage: string }> {
  let usage: string | undefined;
  const flags = await yargs([...argv])
    .scriptName('npm run demo --')
    .usage('$0 [--port N] [--lifetime SECONDS] [--self-test]\n\nRuns redshift-auth-proxy against an embedded stand-in for Redshift and AWS: nothing to install, nothing leaves this machine.')
    .option('port', { type: 'number', describe: 'Port of the proxy on 127.0.0.1 (default 5439; 0 picks a free one; self-test default 0)' })
    .option('lifetime', { type: 'number', describe: 'Seconds each temporary password lives (default 60; self-test default 3)' })
    .option('self-test', { type: 'boolean', default: false, describe: 'Run queries through the proxy across a credential expiry, print each step, exit 0 or 1' })
    .option('idc', { type: 'boolean', default: false, describe: 'Log in with Redshift\'s own IAM Identity Center integration (code 14 and a token) instead of GetClusterCredentials' })
    .option('sign-in', { type: 'boolean', default: false, describe: 'Nobody signed in: the first tool opens the IAM Identity Center sign-in (one click on the emulator\'s page; at once with --self-test), and sessions run as the person' })
    .example('$0', 'then: psql "host=127.0.0.1 port=5439 dbname=dev user=analyst"')
    .example('$0 --self-test', 'check the whole chain in about ten seconds')
    .strict()
    .help()
    .version(false)
    .fail((msg, err) => {
      usage = msg || err?.message || 'invalid arguments';
    })
    .parseAsync();
  if (usage !== undefined) return { usage };
  const selfTest = flags.selfTest;
  const port = flags.port ?? (selfTest ? 0 : 5439);
  const lifetimeSeconds = flags.lifetime ?? (selfTest ? 3 : 60);
  if (!Number.isInteger(port) || port < 0 || port > 65535) return { usage: '--port must be a whole number from 0 to 65535' };
  if (!Number.isInteger(lifetimeSeconds) || lifetimeSeconds < 1 || lifetimeSeconds > 3600) {
    return { usage: '--lifetime must be a whole number of seconds from 1 to 3600' };
  }
  if (flags.idc && flags.signIn) return { usage: '--sign-in and --idc are two different demos: give one' };
  return { port, lifetimeSeconds, selfTest, idc: flags.idc, signIn: flags.signIn };
}

function printHowToConnectIdc(stack: DemoStack, print: Print): void {
  const port = stack.port;
  [
    '',
    `redshift-auth-proxy is listening on 127.0.0.1:${port} with an IAM Identity Center listener. Connect with no password:`,
    '',
    `  psql "host=127.0.0.1 port=${port} dbname=${DEMO_DATABASE} user=anyone"`,
    '',
    '  Try:  select current_user;   -- the person, not a role: ' + DEMO_IDC_LOGIN,
    '',
    'What is going on:',
    `  your tool ─(loopback, no password)─► proxy 127.0.0.1:${port} ─(TLS, verified; idp_type=AwsIdc)─► stand-in Redshift`,
    `  127.0.0.1:${stack.redshift.port}, which answers AuthenticationRequest 14; the proxy sends the person's Identity Center`,
    `  access token in an 'i' message, the stand-in checks it with the demo's Identity Center (${stack.control.emulator.url})`,
    `  and the session runs as ${DEMO_IDC_LOGIN}. No GetClusterCredentials call, no IAM role, no password anywhere.`,
    `  The token comes from --idc-token-command (here: /bin/cat of ${stack.idcTokenFile ?? '?'}, issued through the real`,
    '  SSO-OIDC client at start); every tool shares it until it expires or Redshift refuses it.',
    '',
    'Press Ctrl-C to stop.',
    '',
  ].forEach((line) => print(line));
}

function printHowToConnectSignIn(stack: DemoStack, print: Print): void {
  const port = stack.port;
  [
    '',
    `redshift-auth-proxy is listening on 127.0.0.1:${port}. Nobody is signed in yet. Connect with no password:`,
    '',
    `  psql "host=127.0.0.1 port=${port} dbname=${DEMO_DATABASE} user=anyone"`,
    '',
    '  Your browser opens the demo\'s IAM Identity Center page: click "Allow access". psql was waiting and connects;',
    `  select current_user;  -- ${DEMO_SIGN_IN_LOGIN}: the person (--db-user-from-identity), not a group role.`,
    '  Connect again, from any tool: no browser now; the sign-in is in the AWS CLI\'s cache (a demo HOME), shared.',
    '',
    'Press Ctrl-C to stop.',
    '',
  ].forEach((line) => print(line));
}

function printHowToConnect(stack: DemoStack, args: DemoArgs, print: Print): void {
  const port = stack.port;
  [
    '',
    `redshift-auth-proxy is listening on 127.0.0.1:${port}. Connect with no password:`,
    '',
    `  psql "host=127.0.0.1 port=${port} dbname=${DEMO_DATABASE} user=${DEMO_DB_USER}"`,
    '',
    `  DBeaver / DataGrip: a new PostgreSQL connection (not the Redshift driver): host 127.0.0.1, port ${port},`,
    `  database ${DEMO_DATABASE}, user ${DEMO_DB_USER}, authentication "Database Native" with an empty password, SSL off.`,
    '',
    '  Try:  select * from monthly_revenue order by month, region;',
    '        select current_user;',
    '',
    'What is going on:',
    `  your tool ─(loopback, no password)─► proxy 127.0.0.1:${port} ─(TLS, certificate + host name verified, md5)─►`,
    `  stand-in Redshift 127.0.0.1:${stack.redshift.port} ─► PostgreSQL (PGlite, WebAssembly, inside this process)`,
    `  For the password, the proxy calls AWS GetClusterCredentials (cluster demo-cluster, DbUser "${DEMO_DB_USER}") as`,
    `  ${DEMO_IDENTITY_ARN}, through a local emulator at ${stack.control.emulator.url}; the answer's DbUser`,
    `  ${DEMO_LOGIN_NAME} is the database user your session runs as. Each password lives ${args.lifetimeSeconds} s: the proxy`,
    '  shares it among new connections until shortly before it expires, then fetches a new one; sessions already',
    '  open keep working past its expiry. Whatever user name your tool sends, the session is IAM:analyst (--db-user).',
    '  The demo identity\'s keys exist only inside this process; your own AWS configuration is not read.',
    '',
    'Press Ctrl-C to stop.',
    '',
  ].forEach((line) => print(line));
}

export async function runDemo(args: DemoArgs, print: Print): Promise<number> {
  const started = performance.now();
  print(args.selfTest
    ? args.idc ? 'Self-test: starting the IAM Identity Center demo…' : `Self-test: starting the demo with ${args.lifetimeSeconds}-second passwords…`
    : 'Starting the demo: embedded PostgreSQL, a stand-in Redshift with TLS, a local AWS control plane, the proxy…');
  let stack: DemoStack;
  try {
    stack = await startDemoStack({
      port: args.port,
      lifetimeSeconds: args.lifetimeSeconds,
      proxyLogLevel: args.selfTest ? 'silent' : 'info',
      print,
      idc: args.idc,
      signIn: args.signIn ? { approveAtOnce: args.selfTest,
        browser: args.selfTest ? `${process.execPath} ${fileURLToPath(new URL('./demo-browser.js', import.meta.url))}` : undefined } : undefined,
    });
  } catch (err) {
    if (err instanceof PortInUseError) {
      print(`Cannot start: 127.0.0.1:${err.port} is already in use — is another proxy or demo running, or an SSH tunnel to Redshift?`);
      print(`Stop it, or pick another port: npm run demo -- --port ${err.port === 5439 ? 15439 : err.port + 1}`);
      return 1;
    }
    print(`Cannot start the demo: ${err instanceof Error ? err.message : String(err)}`);
    return 1;
  }
  const t = stack.timings;
  print(`Started in ${Math.round(performance.now() - started)} ms (PostgreSQL ${t.database} ms, certificates ${t.certificates} ms, ` +
    `Redshift stand-in ${t.redshift} ms, AWS emulator ${t.emulator} ms, proxy ${t.proxy} ms).`);

  if (args.selfTest) {
    const ok = args.idc ? await runIdcSelfTest(stack, print)
      : args.signIn ? await runSignInSelfTest(stack, print) : await runSelfTest(stack, print);
    await stack.close();
    print(ok
      ? `Self-test passed in ${((performance.now() - started) / 1000).toFixed(1)} s.`
      : 'Self-test FAILED.');
    return ok ? 0 : 1;
  }

  if (args.signIn) printHowToConnectSignIn(stack, print);
  else if (args.idc) printHowToConnectIdc(stack, print);
  else printHowToConnect(stack, args, print);
  const signal = await new Promise<string>((resolve) => {
    process.once('SIGINT', () => resolve('SIGINT'));
    process.once('SIGTERM', () => resolve('SIGTERM'));
  });
  print(`${signal}: stopping the demo.`);
  await stack.close();
  return SIGNAL_EXIT[signal] ?? 1;
}
