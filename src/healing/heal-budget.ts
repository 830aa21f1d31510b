/**
 * How often one session may be healed: a few times in a window, each heal after the first in a row waiting
 * longer (exponential backoff), so that nothing a client or a failing cluster does can make the proxy log in to
 * Redshift thousands of times for one session. Beyond the budget the session ends with 08006.
 */

/** Heals a session may have within HEAL_WINDOW_MS. */
export const MAX_HEALS = 10;
export const HEAL_WINDOW_MS = 10 * 60_000;
/** The second heal within the window waits this long, each later one twice as long, up to MAX_HEAL_DELAY_MS. */
const FIRST_DELAY_MS = 100;
const MAX_HEAL_DELAY_MS = 5_000;

export class HealBudget {
  private readonly times: number[] = [];
  /** The wait the next reconnect must observe before its first attempt (taken once). */
  private delay = 0;

  constructor(private readonly max = MAX_HEALS, private readonly windowMs = HEAL_WINDOW_MS,
    private readonly now: () => number = () => performance.now()) {}

  /** Counts one heal; false when the session has had its share within the window. */
  charge(): boolean {
    const t = this.now();
    while (this.times.length > 0 && t - (this.times[0] as number) > this.windowMs) this.times.shift();
    if (this.times.length >= this.max) return false;
    const before = this.times.length;
    this.times.push(t);
    this.delay = before === 0 ? 0 : Math.min(MAX_HEAL_DELAY_MS, FIRST_DELAY_MS * 2 ** (before - 1));
    return true;
  }

  /** Heals counted within the window. */
  get recent(): number {
    return this.times.length;
  }

  takeDelay(): number {
    const d = this.delay;
    this.delay = 0;
    return d;
  }
}
