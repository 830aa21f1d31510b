/**
 * The credential cache's options, counters and refusals (the cache itself is credential-cache.ts).
 */
import type { ApiCallEvent } from '../ops/api-call-event.js';
import type { Clock } from '../ops/clock.js';
import type { DbCredential } from './db-credential.js';

export type Fetcher = (signal: AbortSignal) => Promise<DbCredential>;

export type { ApiCallEvent } from '../ops/api-call-event.js';

export interface CredentialCacheOptions {
  /** Attempts per fetch, the first included (default 5: a burst of 3–4 throttles is absorbed). */
  readonly attempts?: number;
  readonly backoffBaseMs?: number;
  readonly backoffCapMs?: number;
  /** Time one API call may take before it is abandoned and retried (default 5 s). */
  readonly attemptTimeoutMs?: number;
  /** Upper bound of successful API calls per key per rolling minute (default 10). */
  readonly maxCallsPerMinute?: number;
  /** Most identities known at once, with a credential or a remembered failure (default 1,000). */
  readonly maxIdentities?: number;
  /** API calls per second for identities without a credential yet, on average (default 10). */
  readonly newIdentitiesPerSecond?: number;
  /** ... and at once (default 20). */
  readonly newIdentityBurst?: number;
  /** How long a refused fetch (not throttling or an outage) is answered from memory before a call is made again (default 2 s). */
  readonly failureTtlMs?: number;
  readonly clock?: Clock;
  readonly onApiCall?: (event: ApiCallEvent) => void;
  /** No background refresh and no timers: fetch when a connection needs a credential (--lazy-refresh). */
  readonly lazy?: boolean;
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
  /** Calls refused by the per-minute bound or the pace of new identities. */
  readonly rateLimited: number;
  /** get() answered with a remembered failure, without a call. */
  readonly failuresReplayed: number;
  /** Identities forgotten to stay within maxIdentities. */
  readonly evicted: number;
}

export class RateLimitedError extends Error {
  constructor(readonly limit: number) {
    super(`more than ${limit} credential requests for one identity within a minute`);
    this.name = 'RateLimitedError';
  }
}

/** Too many identities the cache had not seen asked for a credential at once. */
export class NewIdentityRateLimitedError extends Error {
  constructor(readonly perSecond: number) {
    super(`more than ${perSecond} new identities per second asked for credentials`);
    this.name = 'NewIdentityRateLimitedError';
  }
}

