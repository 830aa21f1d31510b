/**
 * `--max-upstream-connections`: how many connections to Redshift the proxy holds at once — client sessions, warm
 * spares and logins in flight together. A Redshift cluster has a few hundred connection slots for everyone (500 on
 * most node types); a proxy must not be the one that takes them all.
 *
 * A slot is taken before the TCP connect and given back when the connection's socket closes. When none is free, a
 * session's open asks the warm pools to give up a spare (its slot comes back as soon as the spare's socket closes)
 * and waits for it; only when no spare can be evicted is the client refused, with 53300 and a hint.
 */
import { ClientError } from '../protocol/client-error.js';
import { SqlState } from '../protocol/sqlstate.js';

/** A taken slot; release is idempotent and may be passed as a listener. */
export interface BudgetSlot {
  readonly release: () => void;
}

/** Something holding idle connections it can close on request (a warm pool): true when it closed one. */
export type Evictor = () => boolean;

/** How long a session waits for an evicted spare's socket to close before it is refused. */
const EVICTION_WAIT_MS = 5_000;

interface Waiter {
  readonly give: (slot: BudgetSlot) => void;
}

export class UpstreamBudget {
  private used = 0;
  private readonly waiters: Waiter[] = [];
  private readonly evictors = new Set<Evictor>();
  /** Sessions refused because nothing could be evicted, since start. */
  refused = 0;
  /** Spares closed to make room for a session, since start. */
  evicted = 0;

  constructor(readonly limit: number) {}

  /** Connections held now (sessions, spares and logins in flight). */
  get inUse(): number {
    return this.used;
  }

  /** A slot if one is free now, else undefined (the warm pools' way: they never wait and never evict). */
  tryTake(): BudgetSlot | undefined {
    if (this.used >= this.limit || this.waiters.length > 0) return undefined;
    this.used++;
    return this.slot();
  }

  /** A slot for a session: a free one, else one a warm spare gives up; 53300 when there is neither. */
  take(signal: AbortSignal): Promise<BudgetSlot> {
    const free = this.tryTake();
    if (free) return Promise.resolve(free);
    if (signal.aborted) return Promise.reject(signal.reason);
    if (!this.evictOne()) {
      this.refused++;
      return Promise.reject(new ClientError({
        code: SqlState.TooManyConnections,
        message: `too many connections to Redshift: redshift-auth-proxy holds at most ${this.limit} at once (--max-upstream-connections)`,
        hint: 'Close idle sessions, lower the pool size of your tool, or raise --max-upstream-connections (the cluster has a few hundred slots for everyone).',
      }));
    }
    return new Promise<BudgetSlot>((resolve, reject) => {
      const waiter: Waiter = {
        give: (slot) => {
          done();
          resolve(slot);
        },
      };
      const timer = setTimeout(() => {
        done();
        this.refused++;
        reject(new ClientError({
          code: SqlState.TooManyConnections,
          message: `too many connections to Redshift: no connection slot came free within ${EVICTION_WAIT_MS} ms (--max-upstream-connections ${this.limit})`,
          hint: 'Close idle sessions or raise --max-upstream-connections.',
        }));
      }, EVICTION_WAIT_MS);
      timer.unref();
      const onAbort = (): void => {
        done();
        reject(signal.reason);
      };
      const done = (): void => {
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        const i = this.waiters.indexOf(waiter);
        if (i >= 0) this.waiters.splice(i, 1);
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.waiters.push(waiter);
    });
  }

  /** Registers a pool that can close idle connections on request; returns the unregistration. */
  addEvictor(evictor: Evictor): () => void {
    this.evictors.add(evictor);
    return () => this.evictors.delete(evictor);
  }

  private evictOne(): boolean {
    for (const evict of this.evictors) {
      if (evict()) {
        this.evicted++;
        return true;
      }
    }
    return false;
  }

  private slot(): BudgetSlot {
    let held = true;
    return {
      release: () => {
        if (!held) return;
        held = false;
        const next = this.waiters.shift();
        if (next) {
          // Handed straight on: the count stays, the waiting session has it.
          next.give(this.slot());
          return;
        }
        this.used--;
      },
    };
  }
}
