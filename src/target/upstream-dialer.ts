/**
 * The seam between a session and Redshift: how a logged-in upstream connection is obtained, how a query on it is
 * cancelled, and how it is let go. Two implementations: the direct dialer (direct-dialer.ts: a new TLS connection
 * and login every time, under one handshake deadline and the upstream connection budget) and the warm pool
 * (warm-pool.ts: a matching logged-in spare when one is waiting, else the direct dialer). Tests can put any other
 * implementation behind a session.
 */
import type { SessionTracker } from '../healing/session-tracker.js';
import type { BackendKey } from '../upstream/login.js';
import type { UpstreamEndpoint } from '../upstream/upstream-endpoint.js';
import type { UpstreamSession } from './open-upstream.js';

/** What a cancel needs: the upstream connection's own key and where it lives. */
export interface UpstreamCancel {
  readonly upstreamKey: BackendKey;
  readonly endpoint: UpstreamEndpoint;
}

/** A connection the client left cleanly and that may serve another client, with what was seen on it. */
export interface Reusable {
  readonly clientParams: ReadonlyMap<string, string>;
  readonly tracker: SessionTracker;
}

export interface UpstreamDialer {
  /**
   * A logged-in upstream connection for a client's startup parameters. Rejects with a ClientError saying why not
   * (08001 when the handshake did not complete within its deadline, 53300 when the upstream connection budget is
   * spent), or with `signal.reason` once the signal aborts.
   */
  open(clientParams: ReadonlyMap<string, string>, signal: AbortSignal): Promise<UpstreamSession>;
  /** Asks Redshift to cancel what runs on that connection (a new verified-TLS connection carrying CancelRequest). */
  cancel(target: UpstreamCancel): Promise<void>;
  /**
   * The session is done with the connection. With `reuse`, a pooling dialer may reset it and keep it for the next
   * client; otherwise (and always for the direct dialer) the server is told goodbye and the connection closed.
   */
  close(session: UpstreamSession, reuse?: Reusable): void;
  /** Whether close(…, reuse) can keep connections: sessions then track what reuse must undo. */
  readonly reuses: boolean;
}
