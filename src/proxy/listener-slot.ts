/**
 * What one configured listener runs on: its target (credential source and endpoint), its dialers (direct, and the
 * --warm pool) and the SessionDeps every new session of it is given. Built from a ListenerConfig and the process's
 * shared parts, so a reload can build the new ones before it touches any running listener.
 */
import type { Config, ListenerConfig } from '../config/config.js';
import { DEFAULTS } from '../config/config.js';
import type { CredentialCache } from '../credentials/credential-cache.js';
import type { Logger } from '../ops/logger.js';
import type { ListenerObserver, ProxyMetrics } from '../ops/metrics.js';
import { listenerSecurity } from '../front-door/listener-security.js';
import { ConfiguredTarget } from '../target/configured-target.js';
import { DirectDialer } from '../target/direct-dialer.js';
import { WarmPool } from '../target/warm-pool.js';
import type { UpstreamBudget } from '../target/upstream-budget.js';
import type { CancelKeys } from './cancel-keys.js';
import type { ConnectionBudget, ListenerOptions } from './listener.js';
import type { SessionDeps } from './session.js';
import type { SignInGate } from '../signin/sign-in-gate.js';

/** What every listener of the process shares. */
export interface SharedParts {
  readonly cache: CredentialCache;
  readonly metrics: ProxyMetrics;
  /** What every listener reports accepts, ends and refusals to (metrics and the status page's recent errors). */
  readonly observer: ListenerObserver;
  readonly cancelKeys: CancelKeys;
  readonly budget: ConnectionBudget;
  /** Connections to Redshift held at once, sessions and warm spares together (--max-upstream-connections). */
  readonly upstreamBudget: UpstreamBudget;
  readonly log: Logger;
  /** The one IAM Identity Center sign-in (SSO profiles' sign-in on demand and IdC listeners). */
  readonly signIn: SignInGate;
}

export interface ListenerSlot {
  readonly config: ListenerConfig;
  readonly target: ConfiguredTarget;
  readonly pool: WarmPool | undefined;
  /** The listener's direct dialer (also what the shutdown cancels running queries through). */
  readonly direct: DirectDialer;
  readonly deps: SessionDeps;
  readonly options: ListenerOptions;
}

/** Where a listener binds, as a key: the same key in a reloaded file is the same listener. */
export function bindKey(l: ListenerConfig): string {
  return l.unixSocket ?? `${l.host}:${l.port}`;
}

/** Builds a slot; throws when a file it reads (CA, client certificate, password file) cannot be read. */
export function buildSlot(l: ListenerConfig, config: Config, shared: SharedParts): ListenerSlot {
  const target = new ConfiguredTarget(l.target, shared.cache, config.connectTimeoutMs, (ms) => shared.metrics.upstreamConnected(ms),
    shared.signIn);
  const security = listenerSecurity(l);
  // One deadline for every upstream handshake (client logins, heals, spares): the time a client has to log in.
  const direct = new DirectDialer(target, { handshakeTimeoutMs: config.startupTimeoutMs, budget: shared.upstreamBudget });
  const warm = config.warm ?? 0;
  const pool = warm > 0 ? new WarmPool(direct, {
    perKey: warm, total: config.warmTotal ?? DEFAULTS.warmTotalPerSpare * warm, idleMs: config.warmIdleMs ?? DEFAULTS.warmIdleMs,
    budget: shared.upstreamBudget,
  }, shared.log) : undefined;
  return {
    config: l,
    target,
    pool,
    direct,
    deps: {
      target,
      dialer: pool ?? direct,
      healDialer: direct,
      security,
      cancelKeys: shared.cancelKeys,
      limits: { startupTimeoutMs: config.startupTimeoutMs, maxStartupPacket: config.maxStartupPacket,
        idleReleaseMs: config.idleReleaseMs, heal: config.heal !== false },
      log: shared.log,
    },
    options: { name: l.name, maxConnections: l.maxConnections, budget: shared.budget, observer: shared.observer },
  };
}
