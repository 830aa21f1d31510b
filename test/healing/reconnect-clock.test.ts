/**
 * The heal's retry window and backoff run on the Clock seam: thirty seconds of an unreachable Redshift are checked
 * on a fake clock, without sleeping, and a session that ends during a backoff stops at once.
 */
import { describe, expect, it } from 'vitest';
import { reconnect } from '../../src/healing/reconnect.js';
import { SessionTracker } from '../../src/healing/session-tracker.js';
import { ClientError } from '../../src/protocol/client-error.js';
import type { UpstreamDialer } from '../../src/target/upstream-dialer.js';
import { FakeClock, settle } from '../support/fake-clock.js';

/** A dialer for a Redshift that never answers: every open fails at once, counted. */
function unreachable(): UpstreamDialer & { opens: number } {
  const dialer = {
    opens: 0,
    reuses: false,
    open(): Promise<never> {
      dialer.opens++;
      return Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:5439'));
    },
    cancel: () => Promise.resolve(),
    close: () => undefined,
  };
  return dialer;
}

describe('reconnect on the clock seam', () => {
  it('keeps retrying with backoff for 30 s of clock time, then fails with 08006 saying why', async () => {
    const clock = new FakeClock();
    const dialer = unreachable();
    const outcome = reconnect(dialer, new Map([['user', 'alice']]), new SessionTracker(), 1_000,
      new AbortController().signal, clock).then(() => undefined, (err: unknown) => err);
    await clock.advance(10_000);
    const after10s = dialer.opens;
    // Backoff with full jitter up to 200 ms doubling to 2 s: several attempts in 10 s, never a busy loop (each wait
    // is at least 1 ms, and on average about a second once at the cap).
    expect(after10s).toBeGreaterThanOrEqual(4);
    expect(after10s).toBeLessThan(200);
    await clock.advance(25_000);
    const err = await outcome;
    expect(err).toBeInstanceOf(ClientError);
    expect(err).toMatchObject({ code: '08006', message: 'the connection to Redshift was lost and could not be re-established',
      detail: 'connect ECONNREFUSED 127.0.0.1:5439' });
    expect(dialer.opens).toBeGreaterThan(after10s);
    expect(clock.pending).toBe(0);
  });

  it('stops during a backoff as soon as the session ends, and leaves no timer behind', async () => {
    const clock = new FakeClock();
    const dialer = unreachable();
    const ended = new AbortController();
    const outcome = reconnect(dialer, new Map(), new SessionTracker(), 1_000, ended.signal, clock)
      .then(() => 'healed', () => 'stopped');
    await settle();
    expect(dialer.opens).toBe(1);
    expect(clock.pending).toBe(1);
    ended.abort(new Error('client went away'));
    await settle();
    expect(clock.pending).toBe(0);
    await clock.advance(60_000);
    expect(dialer.opens).toBe(1);
    // The backoff ended early on the abort; the next open sees the aborted signal and the heal gives up.
    expect(await outcome).toBe('stopped');
  });
});
