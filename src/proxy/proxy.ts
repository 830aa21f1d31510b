/**
 * The running proxy: one credential cache shared by every listener, one Target per listener, one set of metrics.
 * reconfigure() applies a reloaded Config (see reconfigure.ts); the lists below always show the current listeners.
 */
import type { AddressInfo } from 'node:net';
import type { Config, TargetConfig } from '../config/config.js';
import { DEFAULTS } from '../config/config.js';
import { SignInGate } from '../signin/sign-in-gate.js';
import type { ListenerObserver } from '../ops/metrics.js';
import { RecentErrors } from '../ops/recent-errors.js';
import { CredentialCache } from '../credentials/credential-cache.js';
import type { CredentialCacheOptions } from '../credentials/credential-cache.js';
import type { Logger } from '../ops/logger.js';
import { ProxyMetrics } from '../ops/metrics.js';
import { CancelKeys } from './cancel-keys.js';
import { ConnectionBudget, Listener } from './listener.js';
import type { Target } from '../target/target.js';
import type { WarmPool } from '../target/warm-pool.js';
import type { DirectDialer } from '../target/direct-dialer.js';
import { UpstreamBudget } from '../target/upstream-budget.js';
import { buildSlot } from './listener-slot.js';
import type { ListenerSlot, SharedParts } from './listener-slot.js';
import { applyConfig } from './reconfigure.js';
import type { ReloadOutcome, Running } from './reconfigure.js';

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
  /** The Config now in force (the last one applied). */
  readonly config: Config;
  /**
   * Applies a new Config: listeners added, removed (they stop accepting; their sessions get the grace) or changed
   * (new sessions use the new settings, open ones keep theirs); nothing changes when any part cannot be applied.
   */
  reconfigure(next: Config, graceMs: number): Promise<ReloadOutcome>;
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
  const state: Running = { config, entries: [], draining: new Set() };
  // Read at scrape time only, after both exist.
  const metrics = new ProxyMetrics({
    listeners: () => state.entries.map(({ listener: l }) => ({ label: l.label, active: l.activeConnections })),
    expiries: () => cache.expiries(),
    pools: () => state.entries.flatMap(({ listener: l, slot }) => (slot.pool ? [{ label: l.label, stats: slot.pool.stats }] : [])),
    upstream: () => ({ inUse: upstreamBudget.inUse, limit: upstreamBudget.limit }),
  });
  const cache = new CredentialCache({
    // An API call that hangs is abandoned well within a client's login time, so a retry can still serve it.
    attemptTimeoutMs: Math.min(5_000, Math.max(500, config.startupTimeoutMs / 2)),
    lazy: config.lazyRefresh === true,
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
  // Connections to Redshift held at once, sessions and warm spares of every listener together; reloads keep it.
  const upstreamBudget = new UpstreamBudget(config.maxUpstreamConnections ?? DEFAULTS.maxUpstreamConnections);
  const cancelKeys = new CancelKeys();
  const shared: SharedParts = { cache, metrics, observer, cancelKeys, budget: new ConnectionBudget(config.maxConnections),
    upstreamBudget, log, signIn };
  const slots: ListenerSlot[] = config.listeners.map((l) => buildSlot(l, config, shared));
  const listeners = slots.map((s) => new Listener(s.config.unixSocket !== undefined ? { path: s.config.unixSocket } : s.config,
    s.deps, log, s.options));
  try {
    for (const l of listeners) await l.listen();
  } catch (err) {
    for (const s of slots) s.pool?.shutdown();
    await Promise.all(listeners.map((l) => l.close()));
    cache.close();
    signIn.close();
    throw err;
  }
  state.entries = slots.map((slot, i) => ({ slot, listener: listeners[i] as Listener }));
  for (const l of listeners) log.info({ address: l.address.address, port: l.address.port, listener: l.label }, 'listening');
  let reloading = Promise.resolve<unknown>(undefined);
  return {
    get listeners() {
      return state.entries.map((e) => e.listener);
    },
    get addresses() {
      return state.entries.map((e) => e.listener.address);
    },
    cache,
    get targets() {
      return state.entries.map((e) => ({ target: e.slot.target, config: e.slot.config.target }));
    },
    metrics,
    signIn,
    recentErrors,
    upstreamBudget,
    get pools() {
      return state.entries.map((e) => e.slot.pool);
    },
    get config() {
      return state.config;
    },
    reconfigure(next, graceMs) {
      // One reload at a time: a second one applies on top of the first's result.
      const run = reloading.then(() => applyConfig(state, next, shared, graceMs));
      reloading = run.catch(() => undefined);
      return run;
    },
    async close(graceMs = 0) {
      await reloading;
      for (const e of state.entries) e.slot.pool?.shutdown();
      // Closing a session's upstream connection does not stop a query running on it (the server notices only when
      // it next writes): what still runs when the grace ends is cancelled first, once for all listeners.
      let cancelling: Promise<void> | undefined;
      const cancelRunning = (): Promise<void> => {
        cancelling ??= cancelAll(cancelKeys, state.entries[0]?.slot.direct, log);
        return cancelling;
      };
      await Promise.all([...state.entries.map((e) => e.listener.close(graceMs, cancelRunning)), ...state.draining]);
      cache.close();
      signIn.close();
    },
  };
}
