/**
 * A Clock (src/ops/clock.ts) that moves only when the test says so: timers fire in time order during advance(),
 * with pending promise callbacks run between them, so cache and pool tests check minutes of policy in
 * milliseconds and never sleep on real timers.
 */
import type { Clock, Timer } from '../../src/ops/clock.js';

interface Scheduled {
  readonly at: number;
  readonly seq: number;
  readonly fn: () => void;
}

/** Lets promise callbacks (and I/O already due) run: one real macrotask turn. */
export function settle(): Promise<void> {
  return new Promise((r) => setImmediate(r));
}

export class FakeClock implements Clock {
  private current: number;
  private seq = 0;
  private readonly timers = new Set<Scheduled>();

  constructor(start = Date.UTC(2026, 0, 1)) {
    this.current = start;
  }

  now(): number {
    return this.current;
  }

  setTimeout(fn: () => void, ms: number): Timer {
    const t: Scheduled = { at: this.current + Math.max(0, ms), seq: this.seq++, fn };
    this.timers.add(t);
    return { cancel: () => this.timers.delete(t) };
  }

  /** Timers not yet fired or cancelled. */
  get pending(): number {
    return this.timers.size;
  }

  /** Moves time forward by `ms`, firing every timer that falls due on the way, each at its own instant. */
  async advance(ms: number): Promise<void> {
    const until = this.current + ms;
    await settle();
    for (;;) {
      let next: Scheduled | undefined;
      for (const t of this.timers) if (t.at <= until && (!next || t.at < next.at || (t.at === next.at && t.seq < next.seq))) next = t;
      if (!next) break;
      this.timers.delete(next);
      this.current = next.at;
      next.fn();
      await settle();
    }
    this.current = until;
    await settle();
  }
}
