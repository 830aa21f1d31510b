/**
 * What to do when a session's upstream connection ends under it, decided from what the session was doing:
 * heal silently (idle), answer the waiting statement with 08006 and heal (autocommit), answer and enter the failed
 * transaction state until ROLLBACK (in a transaction), or end with a FATAL error (state that cannot be rebuilt).
 */
import { errorResponse, readyForQuery } from '../protocol/backend-messages.js';
import { ClientError } from '../protocol/client-error.js';
import { TxStatus } from '../protocol/codes.js';
import { SqlState } from '../protocol/sqlstate.js';
import type { SessionTracker } from './session-tracker.js';

export type LossPlan =
  | { readonly kind: 'heal'; readonly reply?: Buffer }
  | { readonly kind: 'failed-transaction'; readonly reply?: Buffer; readonly firstError?: Buffer }
  | { readonly kind: 'fatal'; readonly error: ClientError };

/** Decides, and updates the tracker to the status the client is left in. */
export function planForLoss(tracker: SessionTracker, reason: string): LossPlan {
  const lost = `the connection to Redshift was lost (${reason})`;
  if (tracker.unhealable) {
    return { kind: 'fatal', error: new ClientError({ code: SqlState.ConnectionFailure, message: lost,
      detail: `The proxy cannot restore this session: ${tracker.unhealable}.`,
      hint: 'Reconnect; the new session starts without that state.' }) };
  }
  if (tracker.idle) return { kind: 'heal' };
  // Lost with a statement running or a transaction open: say so, as an ERROR the client can recover from.
  const inTransaction = tracker.status !== TxStatus.Idle;
  const lostError = errorResponse({ severity: 'ERROR', code: SqlState.ConnectionFailure,
    message: `${lost}; ${inTransaction ? 'the transaction was rolled back' : 'the statement did not complete'}`,
    hint: inTransaction ? 'Run ROLLBACK and retry the transaction; the proxy reconnects on its own.'
      : 'Retry the statement; the proxy reconnects on its own.' });
  const status = inTransaction ? TxStatus.Failed : TxStatus.Idle;
  const waiting = tracker.inFlight;
  let reply: Buffer | undefined;
  if (waiting > 0) {
    const parts: Buffer[] = [lostError];
    for (let i = 0; i < waiting; i++) parts.push(readyForQuery(status));
    reply = Buffer.concat(parts);
  }
  tracker.inFlight = 0;
  tracker.status = status;
  if (!inTransaction) return { kind: 'heal', ...(reply ? { reply } : {}) };
  // Idle in a transaction: the client is told at its next statement, as PostgreSQL would tell it.
  return { kind: 'failed-transaction', ...(reply ? { reply } : { firstError: lostError }) };
}
