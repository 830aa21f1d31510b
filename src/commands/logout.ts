/**
 * `logout`: ends the IAM Identity Center sign-in the proxy uses — the portal's Logout invalidates the session
 * server-side (its tokens stop working everywhere), then the token file is removed from the AWS CLI's cache. The
 * client registration stays, as `aws sso logout` leaves it. A portal that cannot be reached does not keep the file.
 */
import { LogoutCommand, SSOClient } from '@aws-sdk/client-sso';
import type { Config } from '../config/config.js';
import { SsoSignIn } from '../signin/index.js';
import { removeToken } from '../signin/token-cache.js';
import type { CommandOutput } from './login.js';
import { signInsOf } from '../signin/config-sign-ins.js';

const stdio: CommandOutput = { out: (l) => process.stdout.write(`${l}\n`), err: (l) => process.stderr.write(`${l}\n`) };

export async function runLogout(config: Config, io: CommandOutput = stdio): Promise<number> {
  const { signIns, problems } = signInsOf(config, io.env);
  if (signIns.length === 0) {
    for (const p of problems) io.err(`redshift-auth-proxy: ${p}`);
    return 1;
  }
  for (const s of signIns) {
    const cached = await new SsoSignIn({ env: io.env }).cached(s.target);
    if (!cached) {
      io.out(`Not signed in to ${s.target.startUrl} (${s.label})`);
      continue;
    }
    const env = io.env ?? process.env;
    const endpoint = s.endpointUrl ?? env.AWS_ENDPOINT_URL_SSO ?? env.AWS_ENDPOINT_URL;
    try {
      const portal = new SSOClient({ region: s.target.region, maxAttempts: 2, ...(endpoint ? { endpoint } : {}) });
      await portal.send(new LogoutCommand({ accessToken: cached.accessToken }));
    } catch (err) {
      // An expired or already revoked token is refused here; the local sign-in is ended all the same.
      io.err(`redshift-auth-proxy: the portal's Logout failed (${err instanceof Error ? err.name : 'error'}); removing the local sign-in anyway`);
    }
    await removeToken(s.target, io.env);
    io.out(`Signed out of ${s.target.startUrl} (${s.label})`);
  }
  return 0;
}
