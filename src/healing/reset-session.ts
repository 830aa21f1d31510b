/**
 * Returns a server connection to the state of a fresh login before another client gets it (what pgbouncer's
 * server_reset_query does; Redshift has no DISCARD ALL): RESET ALL puts every setting back to the value the
 * startup parameters gave it, and the session's prepared statements — the unnamed one, the named protocol-level
 * ones and SQL PREPAREs, all known from session tracking — are closed. Only sessions whose tracker saw nothing
 * that cannot be undone this way (temporary tables, LISTEN, cursors WITH HOLD, advisory locks, SET ROLE) and
 * that are idle outside a transaction get here.
 */
import type { TLSSocket } from 'node:tls';
import { byte, cstring, message } from '../protocol/builder.js';
import type { SessionTracker } from './session-tracker.js';
import { upstreamExchange } from './upstream-exchange.js';

const QUERY = 0x51;
const CLOSE = 0x43;
const STATEMENT = 0x53;
const SYNC = Buffer.from([0x53, 0, 0, 0, 4]);

/** Resolves when the connection is reset; rejects (and the connection must be closed) when anything went wrong. */
export async function resetSession(socket: TLSSocket, tracker: SessionTracker, timeoutMs: number): Promise<void> {
  const { protocol, sql } = tracker.preparedNames();
  // Names are kept as the client wrote them (a plain or a quoted identifier), so they fold the same way.
  const statements = ['RESET ALL', ...sql.map((n) => `DEALLOCATE ${n}`)];
  const out = Buffer.concat([
    message(QUERY, [cstring(statements.join(';\n'))]),
    ...['', ...protocol].map((name) => message(CLOSE, [byte(STATEMENT), cstring(name)])),
    SYNC,
  ]);
  const rest = await upstreamExchange(socket, out, 2, timeoutMs, { doing: 'resetting a session for reuse' });
  if (rest.length > 0) throw new Error('Redshift sent more than the reset asked for');
}
