/**
 * Returns a server connection to the state of a fresh login before another client gets it (what pgbouncer's
 * server_reset_query does; Redshift has no DISCARD ALL), one simple Query per step so that each is parsed on its own:
 *   SET SESSION AUTHORIZATION DEFAULT — the login user again (Redshift and PostgreSQL);
 *   RESET ROLE — no role assumed (PostgreSQL; a server without roles answers with an error that is tolerated);
 *   RESET ALL — every setting back to the value the startup parameters gave it (RESET ALL leaves role and session
 *     authorization alone, hence the two before it);
 *   UNLISTEN * — no notification channel (tolerated where the server has no LISTEN);
 *   DEALLOCATE of each SQL PREPARE, then Close of each protocol-level prepared statement and the unnamed portal.
 * Only sessions whose tracker saw nothing a reset cannot undo (see SessionTracker.reusable) and that are idle
 * outside a transaction get here. Anything else failing means the connection is closed instead of reused.
 */
import type { TLSSocket } from 'node:tls';
import { byte, bytes, message } from '../protocol/builder.js';
import type { Part } from '../protocol/builder.js';
import { CloseTarget, FrontendCode } from '../protocol/codes.js';
import { SYNC } from '../protocol/frontend-messages.js';
import type { SessionTracker } from './session-tracker.js';
import { upstreamExchange } from './upstream-exchange.js';

const QUERY = FrontendCode.Query;
const CLOSE = FrontendCode.Close;
const STATEMENT = CloseTarget.Statement;
const PORTAL = CloseTarget.Portal;
/** A command the server does not have or does not let this user run: syntax error, not supported, no privilege. */
const ABSENT = new Set(['42601', '0A000', '42501', '42704']);

/** The statements, in order, and which may fail because the server lacks them. */
export const RESET_STEPS: ReadonlyArray<{ readonly sql: string; readonly optional: boolean }> = [
  { sql: 'SET SESSION AUTHORIZATION DEFAULT', optional: true },
  { sql: 'RESET ROLE', optional: true },
  { sql: 'RESET ALL', optional: false },
  { sql: 'UNLISTEN *', optional: true },
];

/** Resolves when the connection is reset; rejects (and the connection must be closed) when anything went wrong. */
export async function resetSession(socket: TLSSocket, tracker: SessionTracker, timeoutMs: number): Promise<void> {
  if (!tracker.reusable) throw new Error('the session holds state a reset cannot undo');
  const { protocol, sql } = tracker.preparedNames();
  // Names are kept as the server folded them; quoted, they name exactly that statement.
  const steps = [...RESET_STEPS, ...sql.map((n) => ({ sql: `DEALLOCATE "${n.replace(/"/g, '""')}"`, optional: false }))];
  const out = Buffer.concat([
    ...steps.map((s) => message(QUERY, latin1(s.sql))),
    ...['', ...protocol].map((name) => message(CLOSE, [byte(STATEMENT), ...latin1(name)])),
    message(CLOSE, [byte(PORTAL), byte(0)]),
    SYNC,
  ]);
  const tolerated = steps.map((s) => (s.optional ? ABSENT : undefined));
  const rest = await upstreamExchange(socket, out, steps.length + 1, timeoutMs, { doing: 'resetting a session for reuse', tolerated });
  if (rest.length > 0) throw new Error('Redshift sent more than the reset asked for');
}

/** A C string of the tracker's text, which holds the client's bytes one character each. */
function latin1(text: string): Part[] {
  return [bytes(Buffer.from(text, 'latin1')), byte(0)];
}
