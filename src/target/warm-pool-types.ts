/**
 * What the warm pool (warm-pool.ts) is given and what it counts.
 */
import type { Clock } from '../ops/clock.js';
import type { DirectDialer } from './direct-dialer.js';
import type { UpstreamBudget } from './upstream-budget.js';

/** What the pool opens its spares through: the direct dialer (or, in tests, anything that opens real sockets). */
export type SpareDialer = Pick<DirectDialer, 'target' | 'open' | 'openSpare' | 'close' | 'cancel'>;

export interface WarmPoolOptions {
  /** Spares kept per identity, database and parameter set (--warm). */
  readonly perKey: number;
  /** Spares kept for this upstream in all (--warm-total). */
  readonly total: number;
  /** A spare unused this long is closed (--warm-idle), in ms. */
  readonly idleMs: number;
  /** The proxy-wide upstream connection budget: the pool gives up spares when a session needs their slot. */
  readonly budget?: UpstreamBudget | undefined;
  readonly clock?: Clock | undefined;
}

/** What the pool did, since it started: for /metrics and the benchmark. */
export interface WarmPoolStats {
  /** Clients served from a spare. */
  hits: number;
  /** Clients that found no spare and logged in fresh. */
  misses: number;
  /** Connections reset and kept after their client left. */
  reused: number;
  /** Connections closed after their client left (pool full, credential expiring, reset failed). */
  discarded: number;
  /** Spares closed to stay within --warm-total or to give a session their budget slot. */
  evicted: number;
}
