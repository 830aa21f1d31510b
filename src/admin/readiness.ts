/**
 * /readyz: ready when every listener is bound and, for each target, credentials are obtainable. The answer is
 * cached for a few seconds (and concurrent scrapes share one probe) so that scrapes never hammer AWS; the
 * credential itself comes from the shared cache, so a probe costs one API call per credential lifetime at most.
 *
 * A target with a fixed database identity (dbUser, --with-iam, Serverless) is probed with a real credential
 * request. A target whose database user is the client's user name has no user to ask for before a client comes,
 * so its probe is the AWS identity alone.
 *
 * Readiness never dials Redshift: "ready" means the listeners are accepting and an identity can be resolved. It
 * turns unready, without waiting for the cache, the moment shutdown starts (a signal or /quitquitquit), so a load
 * balancer or a `wait` stops sending new clients while open sessions finish.
 */
import type { RunningProxy } from '../proxy/proxy.js';
import { formatIdentity, resolveIdentity } from '../credentials/aws-identity.js';
import { SignInRequiredError } from '../signin/index.js';

export interface TargetProbe {
  readonly listener: string;
  readonly ok: boolean;
  readonly checked: 'credentials' | 'aws-identity';
  readonly detail: string;
}

export interface ReadinessReport {
  readonly ready: boolean;
  readonly checkedAt: string;
  /** Set once shutdown has begun: never ready again. */
  readonly shuttingDown?: true;
  readonly listeners: ReadonlyArray<{ readonly listener: string; readonly bound: boolean }>;
  readonly targets: readonly TargetProbe[];
}

const PROBE_TIMEOUT_MS = 10_000;

function describe(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const hint = (err as { hint?: unknown }).hint;
  return typeof hint === 'string' ? `${err.message} — ${hint}` : err.message;
}

export class Readiness {
  private last: { readonly at: number; readonly report: Promise<ReadinessReport> } | undefined;
  private stopping = false;

  constructor(private readonly proxy: RunningProxy, private readonly ttlMs = 5_000) {}

  /** Shutdown has begun: every later report is "not ready", whatever the cache holds. */
  shutdownStarted(): void {
    this.stopping = true;
  }

  /** The cached report, or a new one when it is older than the ttl. */
  report(): Promise<ReadinessReport> {
    if (this.stopping) {
      return Promise.resolve({ ready: false, shuttingDown: true, checkedAt: new Date().toISOString(),
        listeners: this.proxy.listeners.map((l) => ({ listener: l.label, bound: l.listening })), targets: [] });
    }
    const now = Date.now();
    if (!this.last || now - this.last.at >= this.ttlMs) this.last = { at: now, report: this.probe() };
    return this.last.report;
  }

  private async probe(): Promise<ReadinessReport> {
    const listeners = this.proxy.listeners.map((l) => ({ listener: l.label, bound: l.listening }));
    const targets = await Promise.all(this.proxy.targets.map(async ({ target, config }, i): Promise<TargetProbe> => {
      const listener = this.proxy.listeners[i]?.label ?? String(i);
      const identityBased = target.source.action !== 'GetClusterCredentials';
      const dbUser = config.dbUser ?? (identityBased ? 'readiness-probe' : undefined);
      try {
        const source = target.source;
        if ('refused' in source) {
          // An IAM Identity Center listener: a probe must never open a browser, so only a cached or refreshed token
          // (or --idc-token-command's) counts; without one, the first client's connection starts the sign-in.
          try {
            const token = await source.token(AbortSignal.timeout(PROBE_TIMEOUT_MS), { interactive: false });
            return { listener, ok: true, checked: 'credentials', detail: `${source.action}: a token valid until ${token.expiresAt.toISOString()}` };
          } catch (err) {
            if (!(err instanceof SignInRequiredError)) throw err;
            return { listener, ok: true, checked: 'credentials', detail: `${source.action}: nobody signed in yet; the first client's connection starts the sign-in` };
          }
        }
        if (dbUser === undefined) {
          return { listener, ok: true, checked: 'aws-identity', detail: formatIdentity(await resolveIdentity(config)) };
        }
        const resolved = await target.resolve(target.requestFor(dbUser, target.databaseFor(undefined)),
          AbortSignal.timeout(PROBE_TIMEOUT_MS));
        return { listener, ok: true, checked: 'credentials',
          detail: `${target.source.action} for ${resolved.credential.user}, expires ${resolved.credential.expiresAt.toISOString()}` };
      } catch (err) {
        return { listener, ok: false, checked: dbUser === undefined ? 'aws-identity' : 'credentials', detail: describe(err) };
      }
    }));
    return {
      ready: listeners.every((l) => l.bound) && targets.every((t) => t.ok),
      checkedAt: new Date().toISOString(),
      listeners,
      targets,
    };
  }
}
