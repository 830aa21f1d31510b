/**
 * The only caller of AWS: one credential per identity key, shared by every connection.
 *
 * - A credential is reused until shortly before its *returned* expiration (the margin scales with its real
 *   lifetime, at most a minute).
 * - Concurrent misses share one API call (single flight).
 * - Identities in use are refreshed in the background ahead of expiry, so a connection never waits for AWS while a
 *   valid credential exists; idle identities are not refreshed and are forgotten when their credential expires.
 * - Retryable failures (throttling, 5xx, network) are retried with jittered exponential backoff; calls per key are
 *   bounded per minute so a misbehaving client cannot hammer the API.
 */
import type { DbCredential } from './db-credential.js';
import { backoffMs, isRetryable } from './retry-policy.js';

export type Fetcher = (signal: AbortSignal) => Promise<DbCredential>;

export interface ApiCallEvent {
  readonly key: string;
  readonly durationMs: number;
  readonly ok: boolean;
  readonly errorName?: string;
  readonly background: boolean;
}

export interface CredentialCacheOptions {
  /** Attempts per fetch, the first included (default 5: a burst of 3–4 throttles is absorbed). */
  readonly attempts?: number;
  readonly backoffBaseMs?: number;
  readonly backoffCapMs?: number;
  /** Time one API call may take before it is abandoned and retried (default 5 s). */
  readonly attemptTimeoutMs?: number;
  /** Upper bound of API calls per key per rolling minute (default 10). */
  readonly maxCallsPerMinute?: number;
  readonly onApiCall?: (event: ApiCallEvent) => void;
  readonly onBackgroundError?: (key: string, err: unknown) => void;
}

/** Counters since the cache was made, as a plain object for a metrics exporter to read. */
export interface CacheStats {
  /** Identities the cache knows (each with or without a current credential). */
  readonly identities: number;
  /** Identities holding a credential now. */
  readonly credentials: number;
  /** get() answered from a cached credential, without waiting. */
  readonly hits: number;
  /** get() that waited for an API call: its own, or one already in flight (then also counted in sharedWaits). */
  readonly misses: number;
  readonly sharedWaits: number;
  /** API calls made (retries and background refreshes included), those that failed, and their summed duration. */
  readonly apiCalls: number;
  readonly apiFailures: number;
  readonly apiCallMsTotal: number;
  /** Refreshes started ahead of expiry for identities in use. */
  readonly backgroundRefreshes: number;
  /** Calls refused by the per-minute bound. */
  readonly rateLimited: number;
}

type Counters = { -readonly [K in Exclude<keyof CacheStats, 'identities' | 'credentials'>]: number };

export class RateLimitedError extends Error {
  constructor(readonly limit: number) {
    super(`more than ${limit} credential requests for one identity within a minute`);
    this.name = 'RateLimitedError';
  }
}

interface Entry {
  credential?: DbCredential;
  inflight?: Promise<DbCredential>;
  fetcher: Fetcher;
  lastUsed: number;
  callTimes: number[];
  timer?: NodeJS.Timeout;
}

export class CredentialCache {
  private readonly entries = new Map<string, Entry>();
  private readonly attempts: number;
  private readonly baseMs: number;
  private readonly capMs: number;
  private readonly maxPerMinute: number;
  private readonly attemptTimeoutMs: number;
  private readonly closing = new AbortController();
  private readonly counters: Counters = { hits: 0, misses: 0, sharedWaits: 0, apiCalls: 0, apiFailures: 0,
    apiCallMsTotal: 0, backgroundRefreshes: 0, rateLimited: 0 };

  constructor(private readonly options: CredentialCacheOptions = {}) {
    this.attempts = options.attempts ?? 5;
    this.baseMs = options.backoffBaseMs ?? 100;
    this.capMs = options.backoffCapMs ?? 3_000;
    this.maxPerMinute = options.maxCallsPerMinute ?? 10;
    this.attemptTimeoutMs = options.attemptTimeoutMs ?? 5_000;
  }

  /** A credential valid for at least the safety margin, fetching it if needed. */
  async get(key: string, fetcher: Fetcher, signal?: AbortSignal): Promise<DbCredential> {
    let entry = this.entries.get(key);
    if (!entry) {
      entry = { fetcher, lastUsed: 0, callTimes: [] };
      this.entries.set(key, entry);
    }
    entry.fetcher = fetcher;
    entry.lastUsed = Date.now();
    const cred = entry.credential;
    if (cred && Date.now() < freshUntil(cred)) {
      this.counters.hits++;
      if (Date.now() >= refreshAt(cred)) this.refreshInBackground(key, entry);
      return cred;
    }
    this.counters.misses++;
    if (entry.inflight) this.counters.sharedWaits++;
    return raceAbort(this.refresh(key, entry, false), signal);
  }

  /** Drops a credential the server refused, so the next get fetches a new one. */
  invalidate(key: string, credential: DbCredential): void {
    const entry = this.entries.get(key);
    if (entry?.credential === credential) delete entry.credential;
  }

  /** Seconds until expiry of each cached credential, for metrics. */
  expiries(): Array<{ key: string; expiresAt: Date }> {
    const out: Array<{ key: string; expiresAt: Date }> = [];
    for (const [key, e] of this.entries) if (e.credential) out.push({ key, expiresAt: e.credential.expiresAt });
    return out;
  }

  stats(): CacheStats {
    let credentials = 0;
    for (const e of this.entries.values()) if (e.credential) credentials++;
    return { identities: this.entries.size, credentials, ...this.counters };
  }

  get size(): number {
    return this.entries.size;
  }

  close(): void {
    this.closing.abort();
    for (const e of this.entries.values()) clearTimeout(e.timer);
    this.entries.clear();
  }

  private refresh(key: string, entry: Entry, background: boolean): Promise<DbCredential> {
    if (entry.inflight) return entry.inflight;
    const inflight = this.fetchWithRetry(key, entry, background)
      .then((cred) => {
        entry.credential = cred;
        this.schedule(key, entry, cred);
        return cred;
      })
      .finally(() => {
        if (entry.inflight === inflight) delete entry.inflight;
      });
    entry.inflight = inflight;
    return inflight;
  }

  private refreshInBackground(key: string, entry: Entry): void {
    if (entry.inflight) return;
    this.counters.backgroundRefreshes++;
    this.refresh(key, entry, true).catch((err: unknown) => this.options.onBackgroundError?.(key, err));
  }

  private async fetchWithRetry(key: string, entry: Entry, background: boolean): Promise<DbCredential> {
    for (let attempt = 0; ; attempt++) {
      this.admitCall(entry);
      const started = performance.now();
      this.counters.apiCalls++;
      // Each attempt has its own deadline: a hung API must not hold every connection of this identity hostage to
      // one request that never ends (they all share it).
      const deadline = AbortSignal.timeout(this.attemptTimeoutMs);
      try {
        const cred = await entry.fetcher(AbortSignal.any([this.closing.signal, deadline]));
        const durationMs = performance.now() - started;
        this.counters.apiCallMsTotal += durationMs;
        this.options.onApiCall?.({ key, durationMs, ok: true, background });
        return cred;
      } catch (caught) {
        const err = deadline.aborted && !this.closing.signal.aborted
          ? Object.assign(new Error(`the AWS API did not answer within ${this.attemptTimeoutMs} ms`), { name: 'TimeoutError', cause: caught })
          : caught;
        const errorName = err instanceof Error ? err.name : 'Error';
        const durationMs = performance.now() - started;
        this.counters.apiCallMsTotal += durationMs;
        this.counters.apiFailures++;
        this.options.onApiCall?.({ key, durationMs, ok: false, errorName, background });
        if (!isRetryable(err) || attempt + 1 >= this.attempts || this.closing.signal.aborted) throw err;
        await sleep(backoffMs(attempt, this.baseMs, this.capMs), this.closing.signal);
      }
    }
  }

  /** Enforces the per-key bound of calls in a rolling minute. */
  private admitCall(entry: Entry): void {
    const now = Date.now();
    while (entry.callTimes.length > 0 && (entry.callTimes[0] as number) <= now - 60_000) entry.callTimes.shift();
    if (entry.callTimes.length >= this.maxPerMinute) {
      this.counters.rateLimited++;
      throw new RateLimitedError(this.maxPerMinute);
    }
    entry.callTimes.push(now);
  }

  /**
   * At the refresh point: refresh if the identity was used since this credential arrived; otherwise let it lapse
   * and forget the identity when the credential expires, unless it is used again before then.
   */
  private schedule(key: string, entry: Entry, cred: DbCredential): void {
    clearTimeout(entry.timer);
    const atRefresh = (): void => {
      if (entry.credential !== cred) return;
      if (entry.lastUsed > cred.obtainedAt.getTime()) {
        this.refreshInBackground(key, entry);
        return;
      }
      entry.timer = unrefTimer(() => this.forgetIfIdle(key, entry, cred), cred.expiresAt.getTime() - Date.now());
    };
    entry.timer = unrefTimer(atRefresh, refreshAt(cred) - Date.now());
  }

  /** Forgets an unused identity — but keeps its call history until the per-minute bound no longer needs it. */
  private forgetIfIdle(key: string, entry: Entry, cred: DbCredential): void {
    if (entry.credential !== cred || entry.lastUsed > cred.obtainedAt.getTime() || entry.inflight) return;
    const newestCall = entry.callTimes[entry.callTimes.length - 1] ?? 0;
    const wait = newestCall + 60_000 - Date.now();
    if (wait > 0) {
      delete entry.credential;
      entry.timer = unrefTimer(() => {
        if (!entry.credential && !entry.inflight && entry.lastUsed <= cred.obtainedAt.getTime()) this.entries.delete(key);
      }, wait);
      return;
    }
    this.entries.delete(key);
  }
}

function lifetimeMs(cred: DbCredential): number {
  return Math.max(0, cred.expiresAt.getTime() - cred.obtainedAt.getTime());
}

/** Reuse until this instant: a tenth of the lifetime before expiry, at most one minute. */
function freshUntil(cred: DbCredential): number {
  return cred.expiresAt.getTime() - Math.min(60_000, lifetimeMs(cred) / 10);
}

/** Start a background refresh from this instant: three quarters into the lifetime, at most five minutes early. */
function refreshAt(cred: DbCredential): number {
  const lead = Math.min(5 * 60_000, lifetimeMs(cred) / 4);
  return Math.min(freshUntil(cred), cred.expiresAt.getTime() - lead);
}

function unrefTimer(fn: () => void, ms: number): NodeJS.Timeout {
  const t = setTimeout(fn, Math.max(0, ms));
  t.unref();
  return t;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(done, ms);
    function done(): void {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

/** Lets one waiter give up without cancelling the shared fetch other connections wait on. */
function raceAbort<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return promise;
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (v) => { signal.removeEventListener('abort', onAbort); resolve(v); },
      (e: unknown) => { signal.removeEventListener('abort', onAbort); reject(e); },
    );
  });
}
