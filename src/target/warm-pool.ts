/**
 * `--warm N`: pre-opened, logged-in TLS connections to Redshift, handed to new clients so that connecting through the
 * proxy skips the TCP, TLS and login round trips. Spares are kept per identity, database *and startup parameters*:
 * a spare logged in with exactly the parameters the client sends is indistinguishable from the client's own login
 * (ParameterStatus, session defaults that RESET ALL returns to, pg_stat_activity), and dashboards reconnect with the
 * same parameters every time. When a client leaves cleanly, its connection is reset and kept as a spare too
 * (session pooling).
 *
 * Sized for bursts: a parameter set keeps N spares, or as many connections as its clients lately held at once
 * (warm-demand.ts) — a dashboard that opens 20 connections together finds 20 the next time. Bounded: at most `total`
 * spares for the whole upstream (the spares of the least recently used parameter set are closed first), none kept
 * idle beyond `idleMs` or close to its credential's expiry, and every spare holds a slot of the upstream connection
 * budget — a session that finds the budget spent takes a spare's slot before anyone is refused. Spares are opened
 * only with room in the budget. A client that finds no spare logs in at once, never waiting for one.
 */
import { systemClock } from '../ops/clock.js';
import type { Clock, Timer } from '../ops/clock.js';
import type { Logger } from '../ops/logger.js';
import type { UpstreamSession } from './open-upstream.js';
import { guardErrors } from '../upstream/end-upstream.js';
import { resetSession } from '../healing/reset-session.js';
import type { SpareDialer, WarmPoolOptions, WarmPoolStats } from './warm-pool-types.js';
import { WarmDemand } from './warm-demand.js';
import { KeyTally } from './key-tally.js';
import type { Reusable, UpstreamCancel, UpstreamDialer } from './upstream-dialer.js';

/** A connection whose credential expires sooner than this is not worth keeping for another client. */
const MIN_REMAINING_MS = 10_000;
/** How long the reset before reuse may take. */
const RESET_TIMEOUT_MS = 5_000;
/**
 * After a spare is taken, refilling waits this long and then opens as many as were taken less those given back in
 * the meantime: short-lived clients (pgbench -C, health checks, dashboards reconnecting) keep the pool full by
 * themselves, and new logins would only be closed again when the pool overflows.
 */
const REFILL_DELAY_MS = 200;

export type { SpareDialer, WarmPoolOptions, WarmPoolStats } from './warm-pool-types.js';

/** Why a spare would be added: a client found none, a taken one is replaced, or a client gives one back. */
type Why = 'miss' | 'refill' | 'return';

interface Refill { readonly timer: Timer; taken: number; returned: number }

interface Spare {
  readonly key: string;
  readonly session: UpstreamSession;
  /** Stops the spare's expiry timer and removes its listeners: called when it leaves the pool. */
  readonly release: () => void;
}

export class WarmPool implements UpstreamDialer {
  readonly reuses = true;
  private readonly spares = new Map<string, Spare[]>();
  private spareCount = 0;
  /** Spare logins in flight: per key, and oldest first (a session short of a budget slot may stop one). */
  private readonly filling = new KeyTally();
  private readonly openings = new Set<AbortController>();
  private readonly refills = new Map<string, Refill>();
  /** Connections given back and being reset, per key. */
  private readonly resetting = new KeyTally();
  private readonly demand: WarmDemand;
  /** When a client last asked for or gave back a connection of this key: the least recent loses its spares first. */
  private readonly usedAt = new Map<string, number>();
  /** Keys by the session's parameter map: computed at acquire, needed again when the session gives back. */
  private readonly keys = new WeakMap<ReadonlyMap<string, string>, string>();
  private readonly clock: Clock;
  private readonly unregister: (() => void) | undefined;
  private closed = false;
  readonly stats: WarmPoolStats = { hits: 0, misses: 0, reused: 0, discarded: 0, evicted: 0 };

  constructor(private readonly direct: SpareDialer, private readonly options: WarmPoolOptions, private readonly log: Logger) {
    this.clock = options.clock ?? systemClock;
    this.demand = new WarmDemand(this.clock, options.idleMs, (key) => this.forgetIfEmpty(key));
    this.unregister = options.budget?.addEvictor(() => this.evictLeastRecent(undefined) || this.stopOneOpening());
  }

  /** Spares waiting now, over all keys. */
  get size(): number {
    return this.spareCount;
  }

  /** A logged-in upstream for this client: a matching spare, else a fresh connection (and spares for next time). */
  async open(clientParams: ReadonlyMap<string, string>, signal: AbortSignal): Promise<UpstreamSession> {
    const key = this.keyFor(clientParams);
    this.usedAt.set(key, this.clock.now());
    const hold = this.demand.hold(key);
    const spare = this.take(key);
    if (spare) {
      this.stats.hits++;
      hold.bind(spare.session.socket);
      this.scheduleRefill(key, new Map(clientParams));
      return spare.session;
    }
    this.stats.misses++;
    const session = this.direct.open(clientParams, signal);
    session.then((s) => hold.bind(s.socket), () => hold.release());
    // The client's own login first: spares take budget slots only after it has one.
    this.replenish(key, new Map(clientParams), 'miss');
    this.forgetIfEmpty(key);
    return session;
  }

  cancel(target: UpstreamCancel): Promise<void> {
    return this.direct.cancel(target);
  }

  /**
   * A client left: with `reuse`, its connection, reset to the state of a fresh login, becomes a spare for the next
   * client with the same identity and parameters — pgbouncer's session pooling, which Redshift's slow logins make
   * worth more. Closed instead when the key has its spares, the credential is about to expire, or the reset fails.
   */
  close(session: UpstreamSession, reuse?: Reusable): void {
    this.demand.release(session.socket);
    if (!reuse) {
      this.direct.close(session);
      return;
    }
    const key = this.keyFor(reuse.clientParams);
    this.usedAt.set(key, this.clock.now());
    const expired = session.credentialExpiresAt.getTime() - this.clock.now() < MIN_REMAINING_MS;
    if (this.closed || expired || !this.hasRoom(key, 'return')) {
      this.stats.discarded++;
      this.direct.close(session);
      return;
    }
    this.resetting.add(key);
    resetSession(session.socket, reuse.tracker, RESET_TIMEOUT_MS).finally(() => this.resetting.remove(key)).then(() => {
      if (this.closed || !this.hasRoom(key, 'return')) {
        this.stats.discarded++;
        this.direct.close(session);
        this.forgetIfEmpty(key);
        return;
      }
      this.stats.reused++;
      const refill = this.refills.get(key);
      if (refill) refill.returned++;
      this.addSpare(key, { ...session, leftover: Buffer.alloc(0) });
    }, (err: unknown) => {
      this.forgetIfEmpty(key);
      this.stats.discarded++;
      this.log.debug({ err: err instanceof Error ? err.message : String(err) }, 'a connection could not be reset for reuse');
      session.socket.destroy();
    });
  }

  /** Closes every spare and opens no more (proxy shutdown). */
  shutdown(): void {
    this.closed = true;
    this.unregister?.();
    for (const refill of this.refills.values()) refill.timer.cancel();
    for (const opening of this.openings) opening.abort(new Error('the proxy is shutting down'));
    this.refills.clear();
    for (const list of this.spares.values()) for (const s of [...list]) this.drop(s);
    this.spares.clear();
  }

  private keyFor(clientParams: ReadonlyMap<string, string>): string {
    const known = this.keys.get(clientParams);
    if (known !== undefined) return known;
    const target = this.direct.target;
    const user = clientParams.get('user') as string;
    target.checkUser(user);
    const database = target.databaseFor(clientParams.get('database'));
    const key = JSON.stringify([target.source.keyFor(target.requestFor(user, database)), [...clientParams]]);
    this.keys.set(clientParams, key);
    return key;
  }

  /**
   * Room for one more spare of `key`: below its own bound, and below the total once another key's spare is closed.
   * The bound is --warm, or more after a burst: a connection given back is kept while the key has fewer spares than
   * its clients lately held at once, and a refill tops the spares up to the connections they lack now.
   */
  private hasRoom(key: string, why: Why): boolean {
    const mine = (this.spares.get(key)?.length ?? 0) + this.filling.of(key);
    const peak = why === 'miss' ? 0 : this.demand.peak(key);
    const wanted = why === 'return' ? peak : peak - this.demand.inUse(key);
    if (mine >= Math.max(this.options.perKey, wanted)) return false;
    return this.spareCount + this.filling.total < this.options.total || this.evictLeastRecent(key);
  }

  private take(key: string): Spare | undefined {
    const list = this.spares.get(key);
    while (list && list.length > 0) {
      const s = list[0] as Spare;
      this.remove(s);
      if (!s.session.socket.destroyed && !s.session.socket.writableEnded
        && s.session.credentialExpiresAt.getTime() > this.clock.now()) return s;
      s.session.socket.destroy();
    }
    return undefined;
  }

  /**
   * Closes one spare of the least recently used key other than `except` (undefined: any key). Its budget slot comes
   * back when its socket closes. False when there is no such spare.
   */
  private evictLeastRecent(except: string | undefined): boolean {
    let victim: Spare | undefined;
    let victimUsed = Number.POSITIVE_INFINITY;
    for (const [key, list] of this.spares) {
      if (key === except || list.length === 0) continue;
      const used = this.usedAt.get(key) ?? 0;
      if (used < victimUsed) {
        victimUsed = used;
        victim = list[0];
      }
    }
    if (!victim) return false;
    this.stats.evicted++;
    this.drop(victim);
    return true;
  }

  private scheduleRefill(key: string, base: Map<string, string>): void {
    const pending = this.refills.get(key);
    if (pending) {
      pending.taken++;
      return;
    }
    const refill: Refill = { taken: 1, returned: 0, timer: this.clock.setTimeout(() => {
      this.refills.delete(key);
      this.replenish(key, base, 'refill', refill.taken - refill.returned);
      this.forgetIfEmpty(key);
    }, REFILL_DELAY_MS) };
    this.refills.set(key, refill);
  }

  /** Opens up to `most` spares in the background, in parallel, while the key, the total and the budget have room. */
  private replenish(key: string, base: Map<string, string>, why: Why, most = Number.POSITIVE_INFINITY): void {
    for (let opened = 0; opened < most && !this.closed && this.hasRoom(key, why); opened++) {
      if (!this.openSpare(key, base)) return;
    }
  }

  /** False when the budget has no room for one more connection now. */
  private openSpare(key: string, base: Map<string, string>): boolean {
    const stop = new AbortController();
    const opening = this.direct.openSpare(base, stop.signal);
    if (!opening) return false;
    this.openings.add(stop);
    this.filling.add(key);
    const done = (): void => {
      this.openings.delete(stop);
      this.filling.remove(key);
    };
    if (!this.usedAt.has(key)) this.usedAt.set(key, this.clock.now());
    opening.then((session) => {
      done();
      if (this.closed) this.direct.close(session);
      else this.addSpare(key, session);
    }, (err: unknown) => {
      done();
      this.log.debug({ err: err instanceof Error ? err.message : String(err) }, 'could not open a warm spare');
    });
    return true;
  }

  /** Keeps a logged-in connection until a client takes it, its credential nears expiry, or it sat unused too long. */
  private addSpare(key: string, session: UpstreamSession): void {
    const list = this.spares.get(key) ?? [];
    this.spares.set(key, list);
    const now = this.clock.now();
    const closeAt = Math.min(session.credentialExpiresAt.getTime() - MIN_REMAINING_MS, now + this.options.idleMs);
    guardErrors(session.socket);
    const onClose = (): void => this.remove(spare);
    const timer = this.clock.setTimeout(() => this.drop(spare), closeAt - now);
    const spare: Spare = {
      key,
      session,
      release: () => {
        timer.cancel();
        session.socket.off('close', onClose);
      },
    };
    session.socket.once('close', onClose);
    list.push(spare);
    this.spareCount++;
  }

  /** Stops the oldest spare login in flight (its budget slot comes back as it fails); false when there is none. */
  private stopOneOpening(): boolean {
    const oldest = this.openings.values().next();
    if (oldest.done) return false;
    this.openings.delete(oldest.value);
    this.stats.evicted++;
    oldest.value.abort(new Error('a session needs the connection slot'));
    return true;
  }

  /** Takes a spare out of the pool (it is the caller's now). */
  private remove(spare: Spare): void {
    const list = this.spares.get(spare.key);
    const i = list ? list.indexOf(spare) : -1;
    if (!list || i < 0) return;
    list.splice(i, 1);
    if (list.length === 0) this.spares.delete(spare.key);
    this.spareCount--;
    spare.release();
    this.forgetIfEmpty(spare.key);
  }

  /** What the pool knows of a key with no spare and none on the way: dropped, so that keys seen once do not pile up. */
  private forgetIfEmpty(key: string): void {
    if (this.spares.has(key) || this.filling.has(key) || this.refills.has(key) || this.resetting.has(key)) return;
    this.usedAt.delete(key);
    this.demand.forget(key);
  }

  /** Takes a spare out of the pool and says goodbye to the server. */
  private drop(spare: Spare): void {
    this.remove(spare);
    this.direct.close(spare.session);
  }
}
