/**
 * The clock seam: the wall time and timers of everything that waits — credential lifetimes, warm spares' idle and
 * expiry, refill delays, rate-limit windows. Production uses `systemClock`; tests pass a clock they advance by hand
 * instead of sleeping on real timers.
 *
 * Timers started through a Clock never keep the process alive (they are unref'd): what waits on them is a cache or a
 * pool, which must not delay an exit.
 */

/** A started timer; cancelling it twice, or after it fired, does nothing. */
export interface Timer {
  cancel(): void;
}

export interface Clock {
  /** Milliseconds since the epoch, as Date.now(). */
  now(): number;
  /** Runs `fn` once, `ms` from now (0 or less: on the next turn). */
  setTimeout(fn: () => void, ms: number): Timer;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout(fn, ms) {
    const t = setTimeout(fn, Math.max(0, ms));
    t.unref();
    return { cancel: () => clearTimeout(t) };
  },
};

/** Resolves after `ms` on `clock`, or at once when `signal` aborts (never rejects). */
export function sleepOn(clock: Clock, ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) {
      resolve();
      return;
    }
    const timer = clock.setTimeout(done, ms);
    function done(): void {
      timer.cancel();
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
