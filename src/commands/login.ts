/**
 * `login`: IAM Identity Center sign-in without the AWS CLI — the browser (authorization code with PKCE) or, with
 * --no-browser, a device code — for the profile (or --sso-start-url) the proxy uses. The token lands in the AWS
 * CLI's cache, where the proxy, the CLI and the SDK all find it. A token still valid is kept (refreshed when it
 * is about to expire); exit 0 once signed in, 1 when the sign-in failed.
 */
import type { Config } from '../config/config.js';
import { SsoSignIn } from '../signin/index.js';
import type { SignInPrompt } from '../signin/index.js';
import { signInsOf } from '../signin/config-sign-ins.js';

export interface CommandOutput {
  readonly out: (line: string) => void;
  readonly err: (line: string) => void;
  readonly env?: NodeJS.ProcessEnv | undefined;
}

const stdio: CommandOutput = { out: (l) => process.stdout.write(`${l}\n`), err: (l) => process.stderr.write(`${l}\n`) };

export async function runLogin(config: Config, io: CommandOutput = stdio): Promise<number> {
  const { signIns, problems } = signInsOf(config, io.env);
  if (signIns.length === 0) {
    for (const p of problems) io.err(`redshift-auth-proxy: ${p}`);
    return 1;
  }
  let failed = 0;
  for (const s of signIns) {
    const signIn = new SsoSignIn({ endpointUrl: s.endpointUrl, noBrowser: config.noBrowser, port: config.signInPort,
      env: io.env, onPrompt: (_t, p) => tell(io, p) });
    try {
      const token = await signIn.accessToken(s.target);
      io.out(`Signed in to ${s.target.startUrl} (${s.label}) until ${token.expiresAt.toISOString()}` +
        (token.refreshable ? '; renewed automatically before then' : ''));
    } catch (err) {
      failed++;
      io.err(`redshift-auth-proxy: sign-in to ${s.target.startUrl} failed: ${err instanceof Error ? err.message : String(err)}`);
    } finally {
      signIn.close();
    }
  }
  return failed > 0 ? 1 : 0;
}

/** The AWS CLI's words, more or less: what opened, and what to do when nothing did. */
function tell(io: CommandOutput, p: SignInPrompt): void {
  if (p.browserOpened && p.userCode === undefined) {
    io.err(`Your browser has been opened to sign in to IAM Identity Center. If it did not open, visit:\n\n${p.url}\n`);
  } else if (p.browserOpened) {
    io.err(`Your browser has been opened. Confirm this code there:\n\n${p.userCode ?? ''}\n\nIf it did not open, visit:\n\n${p.url}\n`);
  } else {
    io.err(`To sign in, open this URL on any device:\n\n${p.url}\n\nand confirm the code:\n\n${p.userCode ?? ''}\n`);
  }
}
