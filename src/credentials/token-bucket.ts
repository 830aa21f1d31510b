/**
 * A token bucket: `burst` calls at once, then `perSecond` on average. Used to pace the API calls made for identities
 * the proxy has not seen before, so that a stream of invented user names cannot spend the account-wide API rate
 * other applications share.
 */
import type { Clock } from '../ops/clock.js';

export class TokenBucket {
  private tokens: number;
  private updatedAt: number;

  constructor(private readonly perSecond: number, private readonly burst: number, private readonly clock: Clock) {
    this.tokens = burst;
    this.updatedAt = clock.now();
  }

  /** Takes one token; false when the bucket is empty. */
  take(): boolean {
    const now = this.clock.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.updatedAt) / 1_000) * this.perSecond);
    this.updatedAt = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}
