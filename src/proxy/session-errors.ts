/**
 * The errors a session itself tells its client (the front door's are in front-door/startup-checks.ts).
 */
import { ClientError } from '../protocol/client-error.js';
import { SqlState } from '../protocol/sqlstate.js';
import { protocolError } from '../front-door/startup-checks.js';
import type { Phase } from './session-phase.js';

/** The upstream connection of a session that is not healed (--no-heal) ended, and the server said nothing. */
export function lostWithoutHealing(reason: string): ClientError {
  return new ClientError({ code: SqlState.ConnectionFailure, message: `the connection to Redshift was lost (${reason})`,
    detail: 'Any transaction in progress was rolled back by the server.', hint: 'Reconnect.' });
}

/** What a client that did not finish starting up within --startup-timeout is told, by the phase it stalled in. */
export function startupTimeout(phase: Phase, ms: number): ClientError {
  if (phase === 'authenticating') {
    // PostgreSQL's authentication_timeout: a client stalled in the password exchange does not hold a session.
    return protocolError(`the client did not complete password authentication within ${ms} ms`);
  }
  if (phase === 'logging-in') {
    return new ClientError({
      code: SqlState.SqlclientUnableToEstablishSqlconnection,
      message: `logging in to Redshift took longer than ${ms} ms`,
      hint: 'The AWS API or the cluster is slow to answer; try again, or raise --startup-timeout.',
    });
  }
  return protocolError(`the client did not send a startup packet within ${ms} ms`);
}
