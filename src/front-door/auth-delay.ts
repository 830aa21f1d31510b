/**
 * A pause before a wrong password is answered, growing with the failures from the same client address — what
 * PostgreSQL's auth_delay does, made progressive: one mistyped password costs 200 ms, a guessing run from one
 * address quickly costs 5 s a guess (before, ~570 guesses a second were answered). The count of an address decays:
 * after FORGET_MS without a failure it starts again. Addresses are remembered in a bounded map.
 */
import { systemClock } from '../ops/clock.js';
import type { Clock } from '../ops/clock.js';

const FIRST_DELAY_MS = 200;
const MAX_DELAY_MS = 5_000;
const FORGET_MS = 60_000;
const MAX_ADDRESSES = 4_096;

interface Failures {
  count: number;
  last: number;
}

export class AuthFailureDelay {
  private readonly byAddress = new Map<string, Failures>();

  constructor(private readonly clock: Clock = systemClock) {}

  /** Records one failure from `address` and returns how long to wait before answering it, in ms. */
  failed(address: string): number {
    const now = this.clock.now();
    let f = this.byAddress.get(address);
    if (f && now - f.last > FORGET_MS) f = undefined;
    this.byAddress.delete(address);
    if (!f && this.byAddress.size >= MAX_ADDRESSES) this.byAddress.delete(this.byAddress.keys().next().value as string);
    f = { count: (f?.count ?? 0) + 1, last: now };
    this.byAddress.set(address, f);
    return Math.min(MAX_DELAY_MS, FIRST_DELAY_MS * 2 ** (f.count - 1));
  }

  /** Runs `answer` after the delay for this failure, on the clock. */
  delay(address: string, answer: () => void): void {
    this.clock.setTimeout(answer, this.failed(address));
  }
}
