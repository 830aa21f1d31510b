/**
 * `status`: for each IAM Identity Center sign-in the config uses — who is signed in (STS GetCallerIdentity through
 * the profile, so the name is the one Redshift will see), until when, whether it renews itself, and which
 * listeners use it. Exit 0 when every sign-in is current, 1 otherwise. Never prints a token.
 */
import type { Config } from '../config/config.js';
import { getCallerIdentity } from '../credentials/caller-identity.js';
import { SsoSignIn } from '../signin/index.js';
import type { CommandOutput } from './login.js';
import { signInsOf } from '../signin/config-sign-ins.js';

const stdio: CommandOutput = { out: (l) => process.stdout.write(`${l}\n`), err: (l) => process.stderr.write(`${l}\n`) };

export async function runStatus(config: Config, io: CommandOutput = stdio): Promise<number> {
  const { signIns, problems } = signInsOf(config, io.env);
  if (signIns.length === 0) {
    for (const p of problems) io.err(`redshift-auth-proxy: ${p}`);
    return 1;
  }
  let current = 0;
  for (const s of signIns) {
    io.out(`${s.target.startUrl} (${s.label})`);
    const cached = await new SsoSignIn({ env: io.env }).cached(s.target);
    const expiresAt = cached ? new Date(cached.expiresAt) : undefined;
    const login = `redshift-auth-proxy login${s.profile && s.profile !== 'default' ? ` --profile ${s.profile}` : ''}`;
    if (!cached || !expiresAt) {
      io.out(`  not signed in — run: ${login} (or just connect: the proxy signs in on demand)`);
    } else if (expiresAt.getTime() <= Date.now() && !cached.refreshToken) {
      io.out(`  signed out: the session expired at ${expiresAt.toISOString()} — run: ${login}`);
    } else {
      current++;
      const who = s.profile ? await whoIs(s.profile, config, s.endpointUrl) : 'signed in';
      const renewal = cached.refreshToken ? '; renewed automatically with its refresh token' : '; sign in again then';
      io.out(`  ${who} — token valid until ${expiresAt.toISOString()}${renewal}`);
    }
    io.out(`  used by: ${s.listeners.length > 0 ? s.listeners.join(', ') : '(no listener of this config)'}`);
  }
  return current === signIns.length ? 0 : 1;
}

async function whoIs(profile: string, config: Config, endpointUrl: string | undefined): Promise<string> {
  const region = config.listeners.find((l) => l.target.profile === profile)?.target.region;
  try {
    const me = await getCallerIdentity({ profile, region, endpointUrl });
    return `signed in as ${me.name ?? me.arn} (${me.arn})`;
  } catch (err) {
    return `signed in (who could not be read: ${err instanceof Error ? err.message : String(err)})`;
  }
}
