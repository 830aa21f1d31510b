/**
 * Prometheus metrics of one running proxy, in its own Registry (never prom-client's global one), so a process —
 * or a test file — can run several proxies and scrape each alone. Gauges that describe current state (active
 * connections, seconds to credential expiry) are computed at scrape time from the objects that own the state.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { ApiCallEvent } from './api-call-event.js';

const PREFIX = 'redshift_auth_proxy_';

/** What the metrics read at scrape time. */
export interface MetricsSources {
  /** Each listener's label and its sessions now open. */
  listeners(): ReadonlyArray<{ readonly label: string; readonly active: number }>;
  /** Each cached credential's identity key and expiry (CredentialCache.expiries). */
  expiries(): ReadonlyArray<{ readonly key: string; readonly expiresAt: Date }>;
  /** Each listener's --warm pool counts (WarmPool.stats); empty without --warm. */
  pools?(): ReadonlyArray<{ readonly label: string; readonly stats: Readonly<Record<WarmOutcome, number>> }>;
  /** Connections to Redshift held now and the --max-upstream-connections budget. */
  upstream?(): { readonly inUse: number; readonly limit: number };
}

/** What happened to connections in a --warm pool. */
export type WarmOutcome = 'hits' | 'misses' | 'reused' | 'discarded' | 'evicted';
const WARM_OUTCOMES: readonly WarmOutcome[] = ['hits', 'misses', 'reused', 'discarded', 'evicted'];

/** Events a listener reports; implemented here, so the listener knows nothing of Prometheus. */
export interface ListenerObserver {
  accepted(listener: string): void;
  /** `error`: what the client was sent (message and hint), for the status page's last errors. */
  refused(listener: string, sqlstate: string, error?: { readonly message?: string; readonly hint?: string | undefined }): void;
  sessionEnded(listener: string, bytes: { readonly toClient: number; readonly toUpstream: number }): void;
}

/** A readable identity label from a cache key (a JSON array of the request's parts, by the sources' convention). */
export function identityLabel(key: string): string {
  try {
    const parts: unknown = JSON.parse(key);
    if (Array.isArray(parts)) {
      return parts.filter((p) => p !== '' && p !== false && !(Array.isArray(p) && p.length === 0))
        .map((p) => (Array.isArray(p) ? p.join('+') : String(p))).join('/');
    }
  } catch {
    // not JSON: use the key as it is
  }
  return key;
}

export class ProxyMetrics implements ListenerObserver {
  readonly registry = new Registry();
  private readonly connections: Counter<'listener'>;
  private readonly refusals: Counter<'listener' | 'sqlstate'>;
  private readonly bytes: Counter<'listener' | 'direction'>;
  private readonly fetches: Counter<'result' | 'background'>;
  private readonly fetchFailures: Counter<'error'>;
  private readonly fetchSeconds: Histogram<'result'>;
  private readonly connectSeconds: Histogram;

  constructor(sources: MetricsSources) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry, prefix: PREFIX });
    new Gauge({
      name: `${PREFIX}connections_active`, help: 'Client sessions open now, per listener', labelNames: ['listener'],
      registers,
      collect() {
        this.reset();
        for (const l of sources.listeners()) this.set({ listener: l.label }, l.active);
      },
    });
    this.connections = new Counter({ name: `${PREFIX}connections_total`, help: 'Client connections accepted, per listener',
      labelNames: ['listener'], registers });
    this.refusals = new Counter({ name: `${PREFIX}connections_refused_total`,
      help: 'Connections refused by the proxy before login, by SQLSTATE of the ErrorResponse sent',
      labelNames: ['listener', 'sqlstate'], registers });
    this.bytes = new Counter({ name: `${PREFIX}session_bytes_total`,
      help: 'Bytes relayed after login, counted when a session ends; direction to_client or to_upstream',
      labelNames: ['listener', 'direction'], registers });
    this.fetches = new Counter({ name: `${PREFIX}credential_fetches_total`,
      help: 'Credential API calls (GetClusterCredentials, …WithIAM, Serverless GetCredentials), by result',
      labelNames: ['result', 'background'], registers });
    this.fetchFailures = new Counter({ name: `${PREFIX}credential_fetch_failures_total`,
      help: 'Failed credential API calls, by error name', labelNames: ['error'], registers });
    this.fetchSeconds = new Histogram({ name: `${PREFIX}credential_fetch_duration_seconds`,
      help: 'Duration of credential API calls', labelNames: ['result'], registers,
      buckets: [0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] });
    this.connectSeconds = new Histogram({ name: `${PREFIX}upstream_connect_duration_seconds`,
      help: 'Time to open a verified TLS connection to Redshift (TCP, SSLRequest, handshake)', registers,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5] });
    new Counter({
      name: `${PREFIX}warm_pool_total`,
      help: 'With --warm: clients served from a spare (hits) or not (misses), connections kept (reused) or closed '
        + '(discarded) after their client left, and spares closed for --warm-total or a session\'s budget slot (evicted)',
      labelNames: ['listener', 'outcome'], registers,
      collect() {
        this.reset();
        for (const p of sources.pools?.() ?? []) {
          for (const outcome of WARM_OUTCOMES) this.inc({ listener: p.label, outcome }, p.stats[outcome]);
        }
      },
    });
    new Gauge({
      name: `${PREFIX}upstream_connections`,
      help: 'Connections to Redshift held now (sessions, warm spares, logins in flight), against --max-upstream-connections',
      labelNames: ['kind'], registers,
      collect() {
        const u = sources.upstream?.();
        if (!u) return;
        this.set({ kind: 'in_use' }, u.inUse);
        this.set({ kind: 'limit' }, u.limit);
      },
    });
    new Gauge({
      name: `${PREFIX}credential_expiry_seconds`,
      help: 'Seconds until the cached temporary credential of each identity expires', labelNames: ['identity'],
      registers,
      collect() {
        this.reset();
        const now = Date.now();
        for (const e of sources.expiries()) {
          this.set({ identity: identityLabel(e.key) }, Math.max(0, (e.expiresAt.getTime() - now) / 1000));
        }
      },
    });
  }

  accepted(listener: string): void {
    this.connections.inc({ listener });
  }

  refused(listener: string, sqlstate: string): void {
    this.refusals.inc({ listener, sqlstate });
  }

  sessionEnded(listener: string, bytes: { readonly toClient: number; readonly toUpstream: number }): void {
    this.bytes.inc({ listener, direction: 'to_client' }, bytes.toClient);
    this.bytes.inc({ listener, direction: 'to_upstream' }, bytes.toUpstream);
  }

  /** For CredentialCache's onApiCall. */
  credentialCall(e: ApiCallEvent): void {
    const result = e.ok ? 'ok' : 'error';
    this.fetches.inc({ result, background: String(e.background) });
    if (!e.ok) this.fetchFailures.inc({ error: e.errorName ?? 'Error' });
    this.fetchSeconds.observe({ result }, e.durationMs / 1000);
  }

  upstreamConnected(ms: number): void {
    this.connectSeconds.observe(ms / 1000);
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }
}
