/**
 * What a relay is given and what it reports when it ends.
 */
import type { TLSSocket } from 'node:tls';
import type { SessionTracker } from '../healing/session-tracker.js';
import type { Clock } from '../ops/clock.js';
import type { ClientPort } from './client-port.js';

export interface RelayEnd {
  readonly closedBy: 'client' | 'upstream' | 'proxy' | 'released';
  readonly reason: string;
  readonly bytesToClient: number;
  readonly bytesToUpstream: number;
  /** The client has received only whole messages, so the proxy may still write to it. */
  readonly atBoundary: boolean;
  /**
   * What the upstream sent last and the relay held back when the connection ended: an ErrorResponse (normally the
   * server's FATAL announcing the end) and anything after it. The session decides whether the client sees it.
   */
  readonly held?: Buffer;
  /** A FATAL from the server already reached the client (held past HOLD_MS): nothing more may be said after it. */
  readonly fatalForwarded?: boolean;
  /**
   * The upstream connection, detached from the relay and left open, when it may serve another client: the client
   * said goodbye (its Terminate was withheld) with nothing in flight, outside a transaction, at a message boundary,
   * and session tracking saw no state a reset cannot undo.
   */
  readonly kept?: TLSSocket;
}

export interface RelayOptions {
  /** The session's client connection: the relay writes the server's bytes to it and reads the client's. */
  readonly client: ClientPort;
  readonly upstream: TLSSocket;
  /** Bytes that arrived on either side before the relay started, not yet delivered. */
  readonly pending: { readonly toUpstream: Buffer; readonly toClient: Buffer };
  /** Session tracking (healing): absent with --no-heal. */
  readonly tracker?: SessionTracker | undefined;
  /**
   * With --idle-release: after this long with nothing relayed and the session idle, give the upstream connection
   * back (Redshift has ~500 slots per cluster); the session reopens it on demand. Needs a tracker.
   */
  readonly idleReleaseMs?: number | undefined;
  /**
   * The upstream connection may be reused after the client leaves (a pooling dialer): the client's Terminate is
   * withheld and a clean, idle connection is handed back in RelayEnd.kept. Needs a tracker.
   */
  readonly keepUpstream?: boolean | undefined;
  /** The idle-release checks' timers (default: the system clock). */
  readonly clock?: Clock | undefined;
}
