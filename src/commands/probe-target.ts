/**
 * What `check` and `creds` share: which listener's target to act for, as which local user and database, built
 * with the proxy's own Target (the same credential source, endpoint discovery and hints a client would get).
 */
import os from 'node:os';
import type { Config, ListenerConfig } from '../config/config.js';
import { DEFAULTS } from '../config/config.js';
import { CredentialCache } from '../credentials/credential-cache.js';
import { ConfiguredTarget } from '../target/configured-target.js';
import type { Target } from '../target/target.js';
import { SignInGate } from '../signin/sign-in-gate.js';

export interface ProbeOptions {
  /** The local user name a client would send (default: the login name of this process). */
  readonly user?: string | undefined;
  readonly database?: string | undefined;
  /** A listener's name or 1-based number (default: the first). */
  readonly listener?: string | undefined;
}

export interface ProbeTarget {
  readonly listener: ListenerConfig;
  readonly label: string;
  readonly target: Target;
  readonly cache: CredentialCache;
  readonly user: string;
  close(): void;
}

export class ProbeSetupError extends Error {
  override readonly name = 'ProbeSetupError';
}

function pickListener(config: Config, wanted: string | undefined): ListenerConfig {
  if (wanted === undefined) return config.listeners[0] as ListenerConfig;
  const byName = config.listeners.find((l) => l.name === wanted);
  const byNumber = /^\d+$/.test(wanted) ? config.listeners[Number(wanted) - 1] : undefined;
  const found = byName ?? byNumber;
  if (!found) {
    const names = config.listeners.map((l, i) => l.name ?? String(i + 1)).join(', ');
    throw new ProbeSetupError(`no listener "${wanted}"; the config has: ${names}`);
  }
  return found;
}

export function labelOf(l: ListenerConfig): string {
  return l.name ?? l.unixSocket ?? `${l.host}:${l.port}`;
}

function defaultUser(): string {
  try {
    return os.userInfo().username;
  } catch {
    return process.env.USER ?? 'proxy-check';
  }
}

/** Builds the Target; throws ProbeSetupError (unknown listener) or the Target's own constructor error. */
export function probeTarget(config: Config, options: ProbeOptions): ProbeTarget {
  const listener = pickListener(config, options.listener);
  const cache = new CredentialCache({ maxCallsPerMinute: 5 });
  // check and creds sign in as a client would (the shared token cache first, a new sign-in if needed): an IdC
  // listener's token, or an SSO profile's sign-in on demand.
  const signIn = new SignInGate({ waitMs: config.signInWaitMs ?? DEFAULTS.signInWaitMs, noBrowser: config.noBrowser,
    port: config.signInPort, endpointUrl: listener.target.awsEndpointUrl });
  const target = new ConfiguredTarget(listener.target, cache, config.connectTimeoutMs, undefined, signIn);
  return { listener, label: labelOf(listener), target, cache, user: options.user ?? defaultUser(),
    close: () => {
      cache.close();
      signIn.close();
    } };
}
