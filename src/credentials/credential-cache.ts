/**
 * The only caller of AWS: one credential per identity key, shared by every connection.
 *
 * - A credential is reused until shortly before its *returned* expiration (the margin scales with its real
 *   lifetime, at most a minute).
 * - Concurrent misses share one API call (single flight).
 * - Identities in use are refreshed in the background ahead of expiry, so a connection never waits for AWS while a
 *   valid credential exists; idle identities are not refreshed and are forgotten when their credential expires.
 * - Lazy (--lazy-refresh, for hosts whose CPU is throttled or suspended between requests): no timers at all; a
 *   credential is fetched when a connection needs one and none is fresh, and spent identities are swept then.
 * - Retryable failures (throttling, 5xx, network) are retried with jittered exponential backoff.
 * - Bounded, so that invented user names cannot cost memory or the account's API rate: at most `maxIdentities`
 *   identities are known (the least recently used is forgotten first); API calls for identities never seen
 *   before are paced by a token bucket; a refusal is remembered for `failureTtlMs` (callers meanwhile get it at
 *   once, without a call); after a passing failure (throttling, an outage) the next miss makes one call, a probe,
 *   rather than a run of retries — so the proxy recovers as soon as AWS answers again, with no window to wait out;
 *   and successful calls per identity are bounded per minute (a credential the database keeps refusing must not
 *   turn into a loop of API calls).
 */
import { sleepOn, systemClock } from '../ops/clock.js';
import type { Clock, Timer } from '../ops/clock.js';
import { freshUntil, refreshAt } from './credential-timing.js';
import { raceAbort } from '../ops/race-abort.js';
import { NewIdentityRateLimitedError, RateLimitedError } from './cache-types.js';
import type { CacheStats, CredentialCacheOptions, Fetcher } from './cache-types.js';
import type { DbCredential } from './db-credential.js';
import { backoffMs, isRetryable } from './retry-policy.js';
import { TokenBucket } from './token-bucket.js';

export { NewIdentityRateLimitedError, RateLimitedError } from './cache-types.js';
export type { ApiCallEvent, CacheStats, CredentialCacheOptions, Fetcher } from './cache-types.js';

type Counters = { -readonly [K in Exclude<keyof CacheStats, 'identities' | 'credentials'>]: number };

/** A 4xx answer of the AWS API that a retry would not change (access denied, no such cluster, bad parameter). */
function isApiRefusal(err: unknown): boolean {
  const status = (err as { $metadata?: { httpStatusCode?: unknown } } | undefined)?.$metadata?.httpStatusCode;
  return typeof status === 'number' && status >= 400 && status < 500 && !isRetryable(err);
}

/** An identity whose fetch failed and that holds no credential is forgotten after this long unused. */
const FAILED_IDENTITY_KEPT_MS = 60_000;

interface Entry {
  credential?: DbCredential;
  inflight?: Promise<DbCredential>;
  fetcher: Fetcher;
  lastUsed: number;
  /** When successful calls were made, within the last minute. */
  callTimes: number[];
  /** The last fetch failed: its error, answered until `until`. */
  failure?: { readonly error: unknown; readonly until: number };
  /** A credential was ever obtained for this identity (else it is new, and paced). */
  known: boolean;
  timer?: Timer;
}

export class CredentialCache {
  private readonly entries = new Map<string, Entry>();
  private readonly attempts: number;
  private readonly baseMs: number;
  private readonly capMs: number;
  private readonly maxPerMinute: number;
  private readonly attemptTimeoutMs: number;
  private readonly maxIdentities: number;
  private readonly failureTtlMs: number;
  private readonly clock: Clock;
  private readonly newIdentities: TokenBucket;
  private readonly newPerSecond: number;
  private readonly closing = new AbortController();
  private readonly counters: Counters = { hits: 0, misses: 0, sharedWaits: 0, apiCalls: 0, apiFailures: 0,
    apiCallMsTotal: 0, backgroundRefreshes: 0, rateLimited: 0, failuresReplayed: 0, evicted: 0 };

  constructor(private readonly options: CredentialCacheOptions = {}) {
    this.attempts = options.attempts ?? 5;
    this.baseMs = options.backoffBaseMs ?? 100;
    this.capMs = options.backoffCapMs ?? 3_000;
    this.maxPerMinute = options.maxCallsPerMinute ?? 10;
    this.attemptTimeoutMs = options.attemptTimeoutMs ?? 5_000;
    this.maxIdentities = options.maxIdentities ?? 1_000;
    this.failureTtlMs = options.failureTtlMs ?? 2_000;
    this.clock = options.clock ?? systemClock;
    this.newPerSecond = options.newIdentitiesPerSecond ?? 10;
    this.newIdentities = new TokenBucket(this.newPerSecond, options.newIdentityBurst ?? 20, this.clock);
  }

  /** A credential valid for at least the safety margin, fetching it if needed. */
  async get(key: string, fetcher: Fetcher, signal?: AbortSignal): Promise<DbCredential> {
    const now = this.clock.now();
    let entry = this.entries.get(key);
    if (!entry) {
      this.makeRoom();
      entry = { fetcher, lastUsed: 0, callTimes: [], known: false };
    } else {
      // Map order is use order: the first entry is the least recently used.
      this.entries.delete(key);
    }
    this.entries.set(key, entry);
    entry.fetcher = fetcher;
    entry.lastUsed = now;
    const cred = entry.credential;
    if (cred && now < freshUntil(cred)) {
      this.counters.hits++;
      if (!this.options.lazy && now >= refreshAt(cred)) this.refreshInBackground(key, entry);
      return cred;
    }
    if (entry.failure && !entry.inflight && now < entry.failure.until) {
      this.counters.failuresReplayed++;
      throw entry.failure.error;
    }
    this.counters.misses++;
    if (this.options.lazy) this.sweepSpent(key);
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
    for (const e of this.entries.values()) e.timer?.cancel();
    this.entries.clear();
  }

  /** Forgets least recently used identities until a new one fits (never one whose call is in flight). */
  private makeRoom(): void {
    if (this.entries.size < this.maxIdentities) return;
    for (const [key, e] of this.entries) {
      if (this.entries.size < this.maxIdentities) return;
      if (e.inflight) continue;
      e.timer?.cancel();
      this.entries.delete(key);
      this.counters.evicted++;
    }
  }

  private refresh(key: string, entry: Entry, background: boolean): Promise<DbCredential> {
    if (entry.inflight) return entry.inflight;
    const inflight = this.fetchWithRetry(key, entry, background)
      .then((cred) => {
        entry.credential = cred;
        entry.known = true;
        delete entry.failure;
        this.schedule(key, entry, cred);
        return cred;
      }, (err: unknown) => {
        // Our own pacing refusals are not the API's answer: nothing to remember.
        if (!(err instanceof NewIdentityRateLimitedError) && !(err instanceof RateLimitedError) && !this.closing.signal.aborted) {
          // A refusal (access denied, no such cluster) is answered from memory for a while; a passing failure
          // (throttling, an outage) is not — the next miss probes at once, so recovery is immediate.
          // Only the API's own answer about this identity is remembered: a failure of the proxy's AWS identity (an
          // expired SSO session, no credentials) is fixed by the user and must be retried on the next connect.
          entry.failure = { error: err, until: isApiRefusal(err) ? this.clock.now() + this.failureTtlMs : 0 };
          // Kept a while (the least recently used go first beyond maxIdentities), so that the next call is a probe.
          if (!entry.credential) this.forgetLater(key, entry, FAILED_IDENTITY_KEPT_MS);
        }
        throw err;
      })
      .finally(() => {
        if (entry.inflight === inflight) delete entry.inflight;
      });
    entry.inflight = inflight;
    return inflight;
  }

  private refreshInBackground(key: string, entry: Entry): void {
    if (entry.inflight || (entry.failure && this.clock.now() < entry.failure.until)) return;
    this.counters.backgroundRefreshes++;
    this.refresh(key, entry, true).catch((err: unknown) => this.options.onBackgroundError?.(key, err));
  }

  private async fetchWithRetry(key: string, entry: Entry, background: boolean): Promise<DbCredential> {
    this.admitCall(entry);
    // After a failure, one call probes: it answers for everyone as soon as AWS does, and costs one call, not a run.
    const attempts = entry.failure ? 1 : this.attempts;
    for (let attempt = 0; ; attempt++) {
      const started = performance.now();
      this.counters.apiCalls++;
      // Each attempt has its own deadline: a hung API must not hold every connection of this identity hostage to
      // one request that never ends (they all share it).
      const deadline = new AbortController();
      const timer = this.clock.setTimeout(() => deadline.abort(), this.attemptTimeoutMs);
      const onClose = (): void => deadline.abort();
      this.closing.signal.addEventListener('abort', onClose, { once: true });
      try {
        const cred = await entry.fetcher(deadline.signal);
        const durationMs = performance.now() - started;
        this.counters.apiCallMsTotal += durationMs;
        entry.callTimes.push(this.clock.now());
        this.options.onApiCall?.({ key, durationMs, ok: true, background });
        return cred;
      } catch (caught) {
        const err = deadline.signal.aborted && !this.closing.signal.aborted
          ? Object.assign(new Error(`the AWS API did not answer within ${this.attemptTimeoutMs} ms`), { name: 'TimeoutError', cause: caught })
          : caught;
        const errorName = err instanceof Error ? err.name : 'Error';
        const durationMs = performance.now() - started;
        this.counters.apiCallMsTotal += durationMs;
        this.counters.apiFailures++;
        this.options.onApiCall?.({ key, durationMs, ok: false, errorName, background });
        if (!isRetryable(err) || attempt + 1 >= attempts || this.closing.signal.aborted) throw err;
        await sleepOn(this.clock, backoffMs(attempt, this.baseMs, this.capMs), this.closing.signal);
      } finally {
        timer.cancel();
        this.closing.signal.removeEventListener('abort', onClose);
      }
    }
  }

  /** The per-key bound of successful calls in a rolling minute, and the pace of identities not seen before. */
  private admitCall(entry: Entry): void {
    const now = this.clock.now();
    while (entry.callTimes.length > 0 && (entry.callTimes[0] as number) <= now - 60_000) entry.callTimes.shift();
    if (entry.callTimes.length >= this.maxPerMinute) {
      this.counters.rateLimited++;
      throw new RateLimitedError(this.maxPerMinute);
    }
    if (!entry.known && !this.newIdentities.take()) {
      this.counters.rateLimited++;
      throw new NewIdentityRateLimitedError(this.newPerSecond);
    }
  }

  /**
   * At the refresh point: refresh if the identity was used since this credential arrived; otherwise let it lapse
   * and forget the identity when the credential expires, unless it is used again before then.
   */
  private schedule(key: string, entry: Entry, cred: DbCredential): void {
    entry.timer?.cancel();
    if (this.options.lazy) return;
    const atRefresh = (): void => {
      if (entry.credential !== cred) return;
      if (entry.lastUsed > cred.obtainedAt.getTime()) {
        this.refreshInBackground(key, entry);
        return;
      }
      entry.timer = this.clock.setTimeout(() => this.forgetIfIdle(key, entry, cred), cred.expiresAt.getTime() - this.clock.now());
    };
    entry.timer = this.clock.setTimeout(atRefresh, refreshAt(cred) - this.clock.now());
  }

  /**
   * Lazy mode's stand-in for the timers: identities (other than `except`) whose credential has expired, with no
   * call in flight, no refusal still remembered and no call within the per-minute bound's window, are forgotten.
   */
  private sweepSpent(except: string): void {
    const now = this.clock.now();
    for (const [key, e] of this.entries) {
      if (key === except || e.inflight || (e.failure && now < e.failure.until)) continue;
      const newestCall = e.callTimes[e.callTimes.length - 1] ?? 0;
      if ((!e.credential || e.credential.expiresAt.getTime() <= now) && newestCall <= now - 60_000) this.entries.delete(key);
    }
  }

  /** Forgets an unused identity — but keeps its call history until the per-minute bound no longer needs it. */
  private forgetIfIdle(key: string, entry: Entry, cred: DbCredential): void {
    if (entry.credential !== cred || entry.lastUsed > cred.obtainedAt.getTime() || entry.inflight) return;
    delete entry.credential;
    this.forgetLater(key, entry, 0);
  }

  /** Drops an identity without a credential after `ms`, or once its call history has left the minute's window. */
  private forgetLater(key: string, entry: Entry, ms: number): void {
    entry.timer?.cancel();
    if (this.options.lazy) return; // sweepSpent forgets it at a later miss
    const newestCall = entry.callTimes[entry.callTimes.length - 1] ?? 0;
    const wait = Math.max(ms, newestCall + 60_000 - this.clock.now());
    const forget = (): void => {
      if (!entry.credential && !entry.inflight && this.entries.get(key) === entry) this.entries.delete(key);
    };
    if (wait <= 0) forget();
    else entry.timer = this.clock.setTimeout(forget, wait);
  }
}
