/**
 * The running proxy: one credential cache shared by every listener, one Target per listener, one set of metrics.
 */
import type { AddressInfo } from 'node:net';
import type { Config, TargetConfig } from '../config/config.js';
import { DEFAULTS } from '../config/config.js';
import { SignInGate } from '../signin/sign-in-gate.js';
import { CredentialCache } from '../credentials/credential-cache.js';
import type { CredentialCacheOptions } from '../credentials/credential-cache.js';
import type { Logger } from '../ops/logger.js';
import { ProxyMetrics } from '../ops/metrics.js';
import type { ListenerObserver } from '../ops/metrics.js';
import { RecentErrors } from '../ops/recent-errors.js';
import { CancelKeys } from './cancel-keys.js';
import { ConnectionBudget, Listener } from './listener.js';
import { ConfiguredTarget } from '../target/configured-target.js';
import type { Target } from '../target/target.js';
import { listenerSecurity } from '../front-door/listener-security.js';
import { WarmPool } from '../target/warm-pool.js';
import { DirectDialer } from '../target/direct-dialer.js';
import { UpstreamBudget } from '../target/upstream-budget.js';

export interface RunningProxy {
  readonly listeners: readonly Listener[];
  readonly addresses: readonly AddressInfo[];
  readonly cache: CredentialCache;
  /** Each listener's target and its settings, in listener order (for readiness probes and `check`). */
  readonly targets: ReadonlyArray<{ readonly target: Target; readonly config: TargetConfig }>;
  readonly metrics: ProxyMetrics;
  /** Each listener's --warm pool, in listener order (undefined without --warm). */
  readonly pools: ReadonlyArray<WarmPool | undefined>;
  /** IAM Identity Center sign-in on demand (shared by every listener), and its state for the status page. */
  readonly signIn: SignInGate;
  /** The last errors clients were refused with (the status page). */
  readonly recentErrors: RecentErrors;
  /** Connections to Redshift held now, against --max-upstream-connections. */
  readonly upstreamBudget: UpstreamBudget;
  close(graceMs?: number): Promise<void>;
}

/** How long the shutdown waits for its cancel requests to be delivered before it closes the sessions anyway. */
const SHUTDOWN_CANCEL_WAIT_MS = 2_000;

/** Sends a CancelRequest upstream for every session that still has a key (idle ones ignore it). */
async function cancelAll(keys: CancelKeys, dialer: DirectDialer | undefined, log: Logger): Promise<void> {
  const targets = keys.targets().filter((t) => t.upstreamKey);
  if (!dialer || targets.length === 0) return;
  log.info({ sessions: targets.length }, 'shutdown grace over: cancelling what still runs upstream');
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    Promise.allSettled(targets.map((t) => dialer.cancel({ upstreamKey: t.upstreamKey as NonNullable<typeof t.upstreamKey>,
      endpoint: t.endpoint }))),
    new Promise((resolve) => {
      timer = setTimeout(resolve, SHUTDOWN_CANCEL_WAIT_MS);
    }),
  ]);
  clearTimeout(timer);
}

export async function startProxy(config: Config, log: Logger, cacheOptions: CredentialCacheOptions = {}): Promise<RunningProxy> {
  // Read at scrape time only, after both exist.
  const metrics = new ProxyMetrics({
    listeners: () => listeners.map((l) => ({ label: l.label, active: l.activeConnections })),
    expiries: () => cache.expiries(),
    pools: () => listeners.flatMap((l, i) => {
      const pool = pools[i];
      return pool ? [{ label: l.label, stats: pool.stats }] : [];
    }),
    upstream: () => ({ inUse: upstreamBudget.inUse, limit: upstreamBudget.limit }),
  });
  const cache = new CredentialCache({
    // An API call that hangs is abandoned well within a client's login time, so a retry can still serve it.
    attemptTimeoutMs: Math.min(5_000, Math.max(500, config.startupTimeoutMs / 2)),
    onBackgroundError: (_key, err) => log.warn({ err: err instanceof Error ? err.message : String(err) },
      'background credential refresh failed; the current credential stays in use'),
    ...cacheOptions,
    onApiCall: (e) => {
      metrics.credentialCall(e);
      log.debug({ durationMs: Math.round(e.durationMs), ok: e.ok, error: e.errorName, background: e.background },
        'credential API call');
      cacheOptions.onApiCall?.(e);
    },
  });
  // One IAM Identity Center sign-in for the whole proxy — SSO profiles' sign-in on demand and IdC listeners without
  // --idc-token-command alike: one browser tab per start URL for every waiting tool. --aws-endpoint-url is per
  // target; the OIDC endpoint is one per sign-in: the first IdC listener's, else the first listener's.
  const idcTarget = config.listeners.find((l) => l.target.idcIssuerUrl !== undefined)?.target;
  const signIn = new SignInGate({ waitMs: config.signInWaitMs ?? DEFAULTS.signInWaitMs, noBrowser: config.noBrowser,
    port: config.signInPort, endpointUrl: (idcTarget ?? config.listeners[0]?.target)?.awsEndpointUrl, log });
  const budget = new ConnectionBudget(config.maxConnections);
  // Metrics count refusals; the status page also shows the last few, as the clients were told them.
  const recentErrors = new RecentErrors();
  const observer: ListenerObserver = {
    accepted: (label) => metrics.accepted(label),
    sessionEnded: (label, bytes) => metrics.sessionEnded(label, bytes),
    refused: (label, code, error) => {
      metrics.refused(label, code);
      recentErrors.push({ at: new Date(), listener: label, code, message: error?.message ?? '', hint: error?.hint });
    },
  };
  const targets = config.listeners.map((l) => ({
    listener: l,
    config: l.target,
    target: new ConfiguredTarget(l.target, cache, config.connectTimeoutMs, (ms) => metrics.upstreamConnected(ms), signIn),
  }));
  const cancelKeys = new CancelKeys();
  // One deadline for every upstream handshake (client logins, heals, spares): the time a client has to log in.
  const upstreamBudget = new UpstreamBudget(config.maxUpstreamConnections ?? DEFAULTS.maxUpstreamConnections);
  const direct = targets.map(({ target }) => new DirectDialer(target, { handshakeTimeoutMs: config.startupTimeoutMs,
    budget: upstreamBudget }));
  const warm = config.warm ?? 0;
  const pools = direct.map((d) => (warm > 0 ? new WarmPool(d, {
    perKey: warm, total: config.warmTotal ?? DEFAULTS.warmTotalPerSpare * warm, idleMs: config.warmIdleMs ?? DEFAULTS.warmIdleMs,
    budget: upstreamBudget,
  }, log) : undefined));
  const listeners = targets.map(({ listener: l, target }, i) => new Listener(l.unixSocket !== undefined ? { path: l.unixSocket } : l, {
    target,
    dialer: pools[i] ?? (direct[i] as DirectDialer),
    healDialer: direct[i] as DirectDialer,
    security: listenerSecurity(l),
    cancelKeys,
    limits: { startupTimeoutMs: config.startupTimeoutMs, maxStartupPacket: config.maxStartupPacket,
      idleReleaseMs: config.idleReleaseMs, heal: config.heal !== false },
    log,
  }, log, { name: l.name, maxConnections: l.maxConnections, budget, observer }));
  const addresses: AddressInfo[] = [];
  try {
    for (const l of listeners) addresses.push(await l.listen());
  } catch (err) {
    await Promise.all(listeners.map((l) => l.close()));
    cache.close();
    signIn.close();
    throw err;
  }
  for (const l of listeners) log.info({ address: l.address.address, port: l.address.port, listener: l.label }, 'listening');
  return {
    listeners,
    addresses,
    cache,
    targets,
    metrics,
    pools,
    signIn,
    recentErrors,
    upstreamBudget,
    async close(graceMs = 0) {
      for (const p of pools) p?.shutdown();
      // Closing a session's upstream connection does not stop a query running on it (the server notices only when
      // it next writes): what still runs when the grace ends is cancelled first, once for all listeners.
      let cancelling: Promise<void> | undefined;
      const cancelRunning = (): Promise<void> => {
        cancelling ??= cancelAll(cancelKeys, direct[0], log);
        return cancelling;
      };
      await Promise.all(listeners.map((l) => l.close(graceMs, cancelRunning)));
      cache.close();
      signIn.close();
    },
  };
}
