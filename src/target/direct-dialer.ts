/**
 * The direct way to Redshift: every open is a new TCP connection, TLS handshake and login (open-upstream.ts), under
 * one deadline from the TCP connect to ReadyForQuery — for client logins, heals and warm spares alike, so a server
 * that stalls at any step (a silent TLS handshake, a login never answered) cannot hold a session, a slot or a spare
 * forever. Every connection it opens holds a slot of the upstream connection budget from its first byte until its
 * socket closes.
 */
import { cancelRequest } from '../protocol/frontend-messages.js';
import { ClientError } from '../protocol/client-error.js';
import { SqlState } from '../protocol/sqlstate.js';
import { endUpstream } from '../upstream/end-upstream.js';
import { connectTls } from '../upstream/connect-tls.js';
import { openUpstream } from './open-upstream.js';
import type { UpstreamSession } from './open-upstream.js';
import type { Target } from './target.js';
import type { BudgetSlot, UpstreamBudget } from './upstream-budget.js';
import type { UpstreamCancel, UpstreamDialer } from './upstream-dialer.js';

export interface DirectDialerOptions {
  /** Time allowed from the TCP connect through TLS and login to ReadyForQuery, in ms. */
  readonly handshakeTimeoutMs: number;
  /** The upstream connections the proxy may hold at once; unbounded when absent. */
  readonly budget?: UpstreamBudget | undefined;
}

export class DirectDialer implements UpstreamDialer {
  readonly reuses = false;

  constructor(readonly target: Target, private readonly options: DirectDialerOptions) {}

  /** A new logged-in connection; when the budget is spent, a warm spare is evicted to make room, else 53300. */
  async open(clientParams: ReadonlyMap<string, string>, signal: AbortSignal): Promise<UpstreamSession> {
    const budget = this.options.budget;
    const slot = budget ? budget.tryTake() ?? await budget.take(signal) : undefined;
    return this.dial(clientParams, signal, slot);
  }

  /**
   * A new connection for a warm spare, only if the budget has room now: a spare never evicts another connection
   * and never takes the slot a client is waiting for. Undefined when there was no room.
   */
  openSpare(clientParams: ReadonlyMap<string, string>, signal: AbortSignal): Promise<UpstreamSession> | undefined {
    const budget = this.options.budget;
    const slot = budget?.tryTake();
    if (budget && !slot) return undefined;
    return this.dial(clientParams, signal, slot);
  }

  async cancel(target: UpstreamCancel): Promise<void> {
    const socket = await connectTls(target.endpoint);
    socket.on('error', () => socket.destroy());
    socket.end(cancelRequest(target.upstreamKey.processId, target.upstreamKey.secretKey));
  }

  close(session: UpstreamSession): void {
    endUpstream(session.socket, true);
  }

  private async dial(clientParams: ReadonlyMap<string, string>, signal: AbortSignal,
    slot: BudgetSlot | undefined): Promise<UpstreamSession> {
    const ms = this.options.handshakeTimeoutMs;
    const deadline = new AbortController();
    const onAbort = (): void => deadline.abort(signal.reason);
    // A plain timer and listener rather than AbortSignal.timeout + any (~0.1 ms per connection, see connect-tls).
    const expire = (): void => {
      // Waiting for an IAM Identity Center sign-in is not Redshift being slow (--sign-in-wait bounds that wait).
      if (this.target.holdsLogins()) {
        timer = setTimeout(expire, ms);
        return;
      }
      deadline.abort(new ClientError({
        code: SqlState.SqlclientUnableToEstablishSqlconnection,
        message: `Redshift did not complete the connection and login within ${ms} ms`,
        hint: 'The cluster may be overloaded, restarting or unreachable; try again, or raise --startup-timeout.',
      }));
    };
    let timer = setTimeout(expire, ms);
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
    try {
      const session = await openUpstream(this.target, clientParams, deadline.signal);
      if (slot) {
        if (session.socket.destroyed) slot.release();
        else session.socket.once('close', slot.release);
      }
      return session;
    } catch (err) {
      slot?.release();
      throw err;
    } finally {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
    }
  }
}
