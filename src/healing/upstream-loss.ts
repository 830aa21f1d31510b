/**
 * What to do when a session's upstream connection ends under it, decided from what the session was doing:
 * end it when the client's own bytes caused the loss (protocol-fault.ts) or it used its heal budget; heal silently
 * (idle); answer the waiting statement with 08006 and heal (autocommit); answer and enter the failed transaction
 * state until ROLLBACK (in a transaction); or end with a FATAL error (state that cannot be rebuilt).
 */
import { errorResponse, readyForQuery } from '../protocol/backend-messages.js';
import { ClientError } from '../protocol/client-error.js';
import { TxStatus } from '../protocol/codes.js';
import { SqlState } from '../protocol/sqlstate.js';
import { ABORTED } from './failed-transaction.js';
import { HEAL_WINDOW_MS } from './heal-budget.js';
import { clientCausedLoss } from './protocol-fault.js';
import type { SessionTracker } from './session-tracker.js';

/**
 * `skipToSync`: an extended-protocol batch was open (messages sent after the last Sync); like the server after an
 * error, the session drops the client's messages up to its Sync and answers that with ReadyForQuery in `status`.
 */
export type LossPlan =
  | { readonly kind: 'heal'; readonly reply?: Buffer; readonly skipToSync?: boolean }
  | { readonly kind: 'failed-transaction'; readonly reply?: Buffer; readonly firstError?: Buffer; readonly skipToSync?: boolean }
  | { readonly kind: 'fatal'; readonly error: ClientError };

/** Decides, and updates the tracker to the status the client is left in. `held`: what the relay held back. */
export function planForLoss(tracker: SessionTracker, reason: string, held?: Buffer): LossPlan {
  const lost = `the connection to Redshift was lost (${reason})`;
  const fault = clientCausedLoss({ held, clientMidMessage: !tracker.fromClient.atBoundary }, reason);
  if (fault) return { kind: 'fatal', error: fault };
  if (tracker.unhealable) {
    return { kind: 'fatal', error: new ClientError({ code: SqlState.ConnectionFailure, message: lost,
      detail: `The proxy cannot restore this session: ${tracker.unhealable}.`,
      hint: 'Reconnect; the new session starts without that state.' }) };
  }
  if (!tracker.budget.charge()) {
    return { kind: 'fatal', error: new ClientError({ code: SqlState.ConnectionFailure, message: lost,
      detail: `The proxy already restored this session ${tracker.budget.recent} times in the last ${HEAL_WINDOW_MS / 60_000} minutes and stops here.`,
      hint: 'Check the cluster\'s health (restarts, connection limits, idle timeouts); then reconnect.' }) };
  }
  if (tracker.idle) return { kind: 'heal' };
  // Lost with a statement running or a transaction open: say so, as an ERROR the client can recover from.
  const inTransaction = tracker.status !== TxStatus.Idle;
  const lostError = errorResponse({ severity: 'ERROR', code: SqlState.ConnectionFailure,
    message: `${lost}; ${inTransaction ? 'the transaction was rolled back' : 'the statement did not complete'}`,
    hint: inTransaction ? 'Run ROLLBACK and retry the transaction; the proxy reconnects on its own.'
      : 'Retry the statement; the proxy reconnects on its own.' });
  const status = inTransaction ? TxStatus.Failed : TxStatus.Idle;
  // One error per lost statement: each Sync or Query the server will never answer, and an open extended batch
  // (answered again at its Sync). In a transaction the first says the connection was lost; the rest are refused
  // as PostgreSQL refuses statements in an aborted transaction (25P02).
  const statements = tracker.inFlight + (tracker.extOpen ? 1 : 0);
  const parts: Buffer[] = [];
  for (let i = 0; i < statements; i++) {
    parts.push(i > 0 && inTransaction ? ABORTED : lostError);
    if (i < tracker.inFlight) parts.push(readyForQuery(status));
  }
  const reply = parts.length > 0 ? Buffer.concat(parts) : undefined;
  const skipToSync = tracker.extOpen;
  // Whatever the lost transaction (or the statement's implicit one) changed was rolled back with it.
  tracker.transactionLost();
  tracker.inFlight = 0;
  tracker.extOpen = false;
  tracker.status = status;
  const more = { ...(reply ? { reply } : {}), ...(skipToSync ? { skipToSync } : {}) };
  if (!inTransaction) return { kind: 'heal', ...more };
  // Idle in a transaction: the client is told at its next statement, as PostgreSQL would tell it.
  return { kind: 'failed-transaction', ...(reply ? more : { firstError: lostError }) };
}
