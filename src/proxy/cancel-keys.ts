/**
 * The proxy gives each client its own BackendKeyData (a random process id and secret from a cryptographic
 * generator) and remembers which upstream key and endpoint it stands for, so a CancelRequest can be forwarded to
 * Redshift over a new TLS connection. Secrets are compared in constant time.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
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

export class CancelKeys {
  private readonly byProcessId = new Map<number, Registration>();
  private windowStart = 0;
  private windowCount = 0;

  /** @param maxCancelsPerSecond bound on forwarded cancels, so a flood cannot turn into a flood upstream. */
  constructor(private readonly maxCancelsPerSecond = 100) {}

  /** Counts one cancel request; false once the per-second bound is reached. */
  admit(now = Date.now()): boolean {
    if (now - this.windowStart >= 1_000) {
      this.windowStart = now;
      this.windowCount = 0;
    }
    return ++this.windowCount <= this.maxCancelsPerSecond;
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
