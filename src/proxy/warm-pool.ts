/**
 * `--warm N`: pre-opened, logged-in TLS connections to Redshift, handed to new clients so that connecting through the
 * proxy skips the TCP, TLS and login round trips. Spares are kept per identity, database *and startup parameters*:
 * a spare logged in with exactly the parameters the client sends is indistinguishable from the client's own login
 * (ParameterStatus, session defaults that RESET ALL returns to, pg_stat_activity), and dashboards reconnect with the
 * same parameters every time. Spares are closed when their credential expires or after sitting unused too long.
 */
import type { Logger } from '../ops/logger.js';
import { openUpstream } from './open-upstream.js';
import type { UpstreamSession } from './open-upstream.js';
import type { Target } from './target.js';

const MAX_IDLE_MS = 5 * 60_000;

interface Spare {
  readonly session: UpstreamSession;
  readonly expiresAt: number;
}

export class WarmPool {
  private readonly spares = new Map<string, Spare[]>();
  private readonly filling = new Map<string, number>();
  private closed = false;

  constructor(private readonly target: Target, private readonly size: number, private readonly log: Logger) {}

  /** A logged-in upstream for this client: a matching spare, else a fresh connection (and spares for next time). */
  async acquire(clientParams: ReadonlyMap<string, string>, signal: AbortSignal): Promise<UpstreamSession> {
    const user = clientParams.get('user') as string;
    this.target.checkUser(user);
    const database = this.target.databaseFor(clientParams.get('database'));
    const key = JSON.stringify([this.target.source.keyFor(this.target.requestFor(user, database)), [...clientParams]]);
    const spare = this.take(key);
    this.replenish(key, new Map(clientParams));
    return spare ? spare.session : openUpstream(this.target, clientParams, signal);
  }

  close(): void {
    this.closed = true;
    for (const list of this.spares.values()) for (const s of list) s.session.socket.destroy();
    this.spares.clear();
  }

  private take(key: string): Spare | undefined {
    const list = this.spares.get(key);
    while (list && list.length > 0) {
      const s = list.shift() as Spare;
      if (!s.session.socket.destroyed && s.expiresAt > Date.now()) return s;
      s.session.socket.destroy();
    }
    return undefined;
  }

  /** Opens spares in the background, in parallel, until `size` are waiting or on their way. */
  private replenish(key: string, base: Map<string, string>): void {
    if (this.closed) return;
    const list = this.spares.get(key) ?? [];
    this.spares.set(key, list);
    const filling = this.filling.get(key) ?? 0;
    for (let i = list.length + filling; i < this.size; i++) this.openSpare(key, base, list);
  }

  private openSpare(key: string, base: Map<string, string>, list: Spare[]): void {
    this.filling.set(key, (this.filling.get(key) ?? 0) + 1);
    const done = (): void => {
      const left = (this.filling.get(key) ?? 1) - 1;
      if (left > 0) this.filling.set(key, left);
      else this.filling.delete(key);
    };
    openUpstream(this.target, base, new AbortController().signal).then((session) => {
      done();
      if (this.closed) {
        session.socket.destroy();
        return;
      }
      const expiresAt = Math.min(session.credentialExpiresAt.getTime(), Date.now() + MAX_IDLE_MS);
      const spare: Spare = { session, expiresAt };
      const timer = setTimeout(() => session.socket.destroy(), Math.max(0, expiresAt - Date.now()));
      timer.unref();
      session.socket.on('error', () => session.socket.destroy());
      session.socket.once('close', () => {
        clearTimeout(timer);
        const i = list.indexOf(spare);
        if (i >= 0) list.splice(i, 1);
      });
      list.push(spare);
    }, (err: unknown) => {
      done();
      this.log.debug({ err: err instanceof Error ? err.message : String(err) }, 'could not open a warm spare');
    });
  }

}
