/**
 * `--warm N`: pre-opened, logged-in TLS connections to Redshift, handed to new clients so that connecting through the
 * proxy skips the TCP, TLS and login round trips. Spares are kept per identity, database *and startup parameters*:
 * a spare logged in with exactly the parameters the client sends is indistinguishable from the client's own login
 * (ParameterStatus, session defaults that RESET ALL returns to, pg_stat_activity), and dashboards reconnect with the
 * same parameters every time. When a client leaves cleanly, its connection is reset and kept as a spare too
 * (session pooling). Spares are closed when their credential expires or after sitting unused too long.
 */
import type { Logger } from '../ops/logger.js';
import { openUpstream } from './open-upstream.js';
import type { UpstreamSession } from './open-upstream.js';
import { endUpstream, guardErrors } from '../proxy/relay.js';
import { resetSession } from '../healing/reset-session.js';
import type { SessionTracker } from '../healing/session-tracker.js';
import type { Target } from './target.js';

const MAX_IDLE_MS = 5 * 60_000;
/** A connection whose credential expires sooner than this is not worth keeping for another client. */
const MIN_REMAINING_MS = 10_000;
/** How long the reset before reuse may take. */
const RESET_TIMEOUT_MS = 5_000;
/**
 * After a spare is taken, refilling waits this long, and does not happen at all if a client gave a connection back
 * in the meantime: short-lived clients (pgbench -C, health checks, dashboards reconnecting) keep the pool full by
 * themselves, and new logins would only be closed again when the pool overflows.
 */
const REFILL_DELAY_MS = 200;

/** What the pool did, since it started: for /metrics and the benchmark. */
export interface WarmPoolStats {
  /** Clients served from a spare. */
  hits: number;
  /** Clients that found no spare and logged in fresh. */
  misses: number;
  /** Connections reset and kept after their client left. */
  reused: number;
  /** Connections closed after their client left (pool full, credential expiring, reset failed). */
  discarded: number;
}

interface Spare {
  readonly session: UpstreamSession;
  /** Stops the spare's expiry timer and removes its listeners: called when it leaves the pool. */
  readonly release: () => void;
}

export class WarmPool {
  private readonly spares = new Map<string, Spare[]>();
  private readonly filling = new Map<string, number>();
  private readonly refills = new Map<string, NodeJS.Timeout>();
  /** When a connection was last given back, per key. */
  private readonly returnedAt = new Map<string, number>();
  /** Keys by the session's parameter map: computed at acquire, needed again when the session gives back. */
  private readonly keys = new WeakMap<ReadonlyMap<string, string>, string>();
  private closed = false;
  readonly stats: WarmPoolStats = { hits: 0, misses: 0, reused: 0, discarded: 0 };

  constructor(private readonly target: Target, private readonly size: number, private readonly log: Logger) {}

  /** A logged-in upstream for this client: a matching spare, else a fresh connection (and spares for next time). */
  async acquire(clientParams: ReadonlyMap<string, string>, signal: AbortSignal): Promise<UpstreamSession> {
    const key = this.keyFor(clientParams);
    const spare = this.take(key);
    if (spare) {
      this.stats.hits++;
      this.scheduleRefill(key, new Map(clientParams));
      return spare.session;
    }
    this.stats.misses++;
    this.replenish(key, new Map(clientParams));
    return openUpstream(this.target, clientParams, signal);
  }

  /**
   * A client left: its connection, reset to the state of a fresh login, becomes a spare for the next client with
   * the same identity and parameters — pgbouncer's session pooling, which Redshift's slow logins make worth more.
   * Closed instead when the pool is full, the credential is about to expire, or the reset fails.
   */
  giveBack(clientParams: ReadonlyMap<string, string>, session: UpstreamSession, tracker: SessionTracker): void {
    const key = this.keyFor(clientParams);
    const list = this.spares.get(key) ?? [];
    const expired = session.credentialExpiresAt.getTime() - Date.now() < MIN_REMAINING_MS;
    if (this.closed || expired || list.length >= this.size) {
      this.stats.discarded++;
      terminate(session);
      return;
    }
    resetSession(session.socket, tracker, RESET_TIMEOUT_MS).then(() => {
      const now = this.spares.get(key) ?? [];
      if (this.closed || now.length >= this.size) {
        this.stats.discarded++;
        terminate(session);
        return;
      }
      this.stats.reused++;
      this.returnedAt.set(key, performance.now());
      this.addSpare(key, { ...session, leftover: Buffer.alloc(0) });
    }, (err: unknown) => {
      this.stats.discarded++;
      this.log.debug({ err: err instanceof Error ? err.message : String(err) }, 'a connection could not be reset for reuse');
      session.socket.destroy();
    });
  }

  close(): void {
    this.closed = true;
    for (const timer of this.refills.values()) clearTimeout(timer);
    this.refills.clear();
    for (const list of this.spares.values()) for (const s of list) terminate(s.session);
    this.spares.clear();
  }

  private keyFor(clientParams: ReadonlyMap<string, string>): string {
    const known = this.keys.get(clientParams);
    if (known !== undefined) return known;
    const user = clientParams.get('user') as string;
    this.target.checkUser(user);
    const database = this.target.databaseFor(clientParams.get('database'));
    const key = JSON.stringify([this.target.source.keyFor(this.target.requestFor(user, database)), [...clientParams]]);
    this.keys.set(clientParams, key);
    return key;
  }

  private take(key: string): Spare | undefined {
    const list = this.spares.get(key);
    while (list && list.length > 0) {
      const s = list.shift() as Spare;
      s.release();
      if (!s.session.socket.destroyed && !s.session.socket.writableEnded && s.session.credentialExpiresAt.getTime() > Date.now()) return s;
      s.session.socket.destroy();
    }
    return undefined;
  }

  private scheduleRefill(key: string, base: Map<string, string>): void {
    if (this.refills.has(key)) return;
    const scheduledAt = performance.now();
    const timer = setTimeout(() => {
      this.refills.delete(key);
      if ((this.returnedAt.get(key) ?? -1) >= scheduledAt) return;
      this.replenish(key, base);
    }, REFILL_DELAY_MS);
    timer.unref();
    this.refills.set(key, timer);
  }

  /** Opens spares in the background, in parallel, until `size` are waiting or on their way. */
  private replenish(key: string, base: Map<string, string>): void {
    if (this.closed) return;
    const have = (this.spares.get(key)?.length ?? 0) + (this.filling.get(key) ?? 0);
    for (let i = have; i < this.size; i++) this.openSpare(key, base);
  }

  private openSpare(key: string, base: Map<string, string>): void {
    this.filling.set(key, (this.filling.get(key) ?? 0) + 1);
    const done = (): void => {
      const left = (this.filling.get(key) ?? 1) - 1;
      if (left > 0) this.filling.set(key, left);
      else this.filling.delete(key);
    };
    openUpstream(this.target, base, new AbortController().signal).then((session) => {
      done();
      if (this.closed) terminate(session);
      else this.addSpare(key, session);
    }, (err: unknown) => {
      done();
      this.log.debug({ err: err instanceof Error ? err.message : String(err) }, 'could not open a warm spare');
    });
  }

  /** Keeps a logged-in connection until a client takes it, its credential expires or it sat unused too long. */
  private addSpare(key: string, session: UpstreamSession): void {
    const list = this.spares.get(key) ?? [];
    this.spares.set(key, list);
    const expiresAt = Math.min(session.credentialExpiresAt.getTime(), Date.now() + MAX_IDLE_MS);
    const timer = setTimeout(() => terminate(session), Math.max(0, expiresAt - Date.now()));
    timer.unref();
    guardErrors(session.socket);
    const onClose = (): void => {
      clearTimeout(timer);
      const i = list.indexOf(spare);
      if (i >= 0) list.splice(i, 1);
    };
    const spare: Spare = {
      session,
      release: () => {
        clearTimeout(timer);
        session.socket.off('close', onClose);
      },
    };
    session.socket.once('close', onClose);
    list.push(spare);
  }
}

/** Says goodbye to the server (so it logs a normal disconnection) and closes. */
function terminate(session: UpstreamSession): void {
  endUpstream(session.socket, true);
}
