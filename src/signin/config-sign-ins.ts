/**
 * Which IAM Identity Center sign-ins a config uses, for `login`, `logout` and `status`: --sso-start-url and
 * --sso-region when given, else the profile of each listener (its --profile, else AWS_PROFILE, else `default`),
 * one entry per token file with the listeners that use it.
 */
import type { Config, ListenerConfig } from '../config/config.js';
import { PORTAL_SCOPE, SsoConfigError, profileSignIn } from './sso-config.js';
import { tokenPath } from './token-cache.js';
import type { SignInTarget } from './sign-in-types.js';

export interface NamedSignIn {
  readonly target: SignInTarget;
  /** `sso-session "corp"`, `profile "old"` or `--sso-start-url https://…`. */
  readonly label: string;
  /** The profile it came from (for commands to suggest), when it came from one. */
  readonly profile?: string | undefined;
  /** Listeners whose profile signs in with this token. */
  readonly listeners: string[];
  /** --aws-endpoint-url of the first listener that uses it (the OIDC and portal calls go there too). */
  readonly endpointUrl?: string | undefined;
}

export function listenerLabel(l: ListenerConfig): string {
  return l.name ?? l.unixSocket ?? `${l.host}:${l.port}`;
}

export function signInsOf(config: Config, env: NodeJS.ProcessEnv = process.env): { signIns: NamedSignIn[]; problems: string[] } {
  const byFile = new Map<string, NamedSignIn>();
  const problems: string[] = [];
  if (config.ssoStartUrl !== undefined && config.ssoRegion !== undefined) {
    const target: SignInTarget = { startUrl: config.ssoStartUrl, region: config.ssoRegion, scopes: [PORTAL_SCOPE] };
    byFile.set(tokenPath(target, env), { target, label: `--sso-start-url ${config.ssoStartUrl}`, listeners: [],
      endpointUrl: config.listeners[0]?.target.awsEndpointUrl });
  }
  for (const l of config.listeners) {
    const profile = l.target.profile ?? env.AWS_PROFILE ?? 'default';
    try {
      const found = profileSignIn(profile, env);
      const key = tokenPath(found.target, env);
      const known = byFile.get(key);
      if (known) {
        known.listeners.push(listenerLabel(l));
      } else if (config.ssoStartUrl === undefined) {
        byFile.set(key, { target: found.target, label: `profile "${profile}" (${found.source})`, profile, listeners: [listenerLabel(l)],
          endpointUrl: l.target.awsEndpointUrl });
      }
    } catch (err) {
      if (!(err instanceof SsoConfigError)) throw err;
      if (config.ssoStartUrl === undefined) problems.push(err.message);
    }
  }
  return { signIns: [...byFile.values()], problems: byFile.size > 0 ? [] : problems };
}
