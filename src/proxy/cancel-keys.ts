/**
 * The proxy gives each client its own BackendKeyData (a random process id and secret from a cryptographic
 * generator) and remembers which upstream key and endpoint it stands for, so a CancelRequest can be forwarded to
 * Redshift over a new TLS connection. Secrets are compared in constant time.
 *
 * A cancel is judged by its key first: one with an unknown key or a wrong secret costs nothing but the lookup and
 * is dropped (so a flood of junk cancels cannot spend the budget real ones need). Cancels with a valid key are
 * bounded per source address (a token bucket each) and in total per second, so that neither a client nor all of them
 * together can turn cancels into a flood of TLS connections to the cluster.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { systemClock } from '../ops/clock.js';
import type { Clock } from '../ops/clock.js';
import type { BackendKey } from '../upstream/login.js';
import type { UpstreamEndpoint } from '../upstream/upstream-endpoint.js';

export interface CancelTarget {
  /** Absent when the upstream sent no BackendKeyData: cancels are then dropped. */
  readonly upstreamKey: BackendKey | undefined;
  readonly endpoint: UpstreamEndpoint;
}

interface Registration {
  readonly secret: Buffer;
  target: CancelTarget;
}

/** Valid cancels per source address: at once, and per second after that. */
const PER_SOURCE_BURST = 20;
const PER_SOURCE_PER_SECOND = 10;
/** Source addresses remembered for their bucket (the least recently seen forgotten first). */
const MAX_SOURCES = 1_024;

interface Bucket {
  tokens: number;
  at: number;
}

export class CancelKeys {
  private readonly byProcessId = new Map<number, Registration>();
  private readonly sources = new Map<string, Bucket>();
  private windowStart = 0;
  private windowCount = 0;

  /** @param maxCancelsPerSecond bound on forwarded cancels in all, so a flood cannot turn into a flood upstream. */
  constructor(private readonly maxCancelsPerSecond = 100, private readonly clock: Clock = systemClock) {}

  /**
   * Counts one cancel with a valid key from `source` (an address); false once that source's bucket or the total
   * per-second bound is spent. Call it after lookup succeeded, never for unknown keys.
   */
  admit(source = 'unknown'): boolean {
    const now = this.clock.now();
    let bucket = this.sources.get(source);
    if (bucket) {
      this.sources.delete(source);
      bucket.tokens = Math.min(PER_SOURCE_BURST, bucket.tokens + ((now - bucket.at) / 1_000) * PER_SOURCE_PER_SECOND);
      bucket.at = now;
    } else {
      if (this.sources.size >= MAX_SOURCES) this.sources.delete(this.sources.keys().next().value as string);
      bucket = { tokens: PER_SOURCE_BURST, at: now };
    }
    this.sources.set(source, bucket);
    if (bucket.tokens < 1) return false;
    if (now - this.windowStart >= 1_000) {
      this.windowStart = now;
      this.windowCount = 0;
    }
    if (this.windowCount >= this.maxCancelsPerSecond) return false;
    this.windowCount++;
    bucket.tokens -= 1;
    return true;
  }

  /** Every registered upstream key, for cancelling what still runs when the shutdown grace ends. */
  targets(): CancelTarget[] {
    return [...this.byProcessId.values()].map((r) => r.target);
  }

  /** Random bytes drawn ahead (one system call per 512 keys); each key takes 8 never-reused bytes. */
  private random = Buffer.alloc(0);
  private randomAt = 0;

  private nextRandom8(): Buffer {
    if (this.randomAt + 8 > this.random.length) {
      // A new buffer, not a refill: issued secrets are views into the old one.
      this.random = randomBytes(4096);
      this.randomAt = 0;
    }
    this.randomAt += 8;
    return this.random.subarray(this.randomAt - 8, this.randomAt);
  }

  /** Issues a fresh client-facing key for a session. */
  register(target: CancelTarget): BackendKey {
    for (;;) {
      const bytes = this.nextRandom8();
      // Positive process ids: some clients print them, and 0 means "none" to a few.
      const processId = (bytes.readUInt32BE(0) & 0x7fffffff) || 1;
      if (this.byProcessId.has(processId)) continue;
      const secret = bytes.subarray(4, 8);
      this.byProcessId.set(processId, { secret, target });
      return { processId, secretKey: secret.readInt32BE(0) };
    }
  }

  /** Points an existing key at a new upstream connection (after a session reconnects). */
  retarget(processId: number, target: CancelTarget): void {
    const reg = this.byProcessId.get(processId);
    if (reg) reg.target = target;
  }

  release(processId: number): void {
    this.byProcessId.delete(processId);
  }

  /** The upstream to cancel for a client's CancelRequest, or undefined when the key is unknown or wrong. */
  lookup(processId: number, secretKey: number): CancelTarget | undefined {
    const reg = this.byProcessId.get(processId);
    if (!reg) return undefined;
    const offered = Buffer.allocUnsafe(4);
    offered.writeInt32BE(secretKey, 0);
    return timingSafeEqual(offered, reg.secret) ? reg.target : undefined;
  }

  get size(): number {
    return this.byProcessId.size;
  }
}
