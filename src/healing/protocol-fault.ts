/**
 * Whether an upstream loss was the client's own doing, in which case it must end the session rather than heal it:
 * healing would replay the rest of the offending bytes onto a fresh connection and log in again and again (a
 * stream of invalid messages made 865 logins in 5 s). The server's FATAL error says so by its SQLSTATE class —
 * 08 (protocol violation: invalid message type or length), 0A, 22 and 54 (data the server refuses to read) — and a
 * loss while a client message is only partly sent can never be healed: the rest of it has no connection to go to.
 */
import { ClientError } from '../protocol/client-error.js';
import { BackendCode } from '../protocol/codes.js';
import { decodeErrorFields } from '../protocol/error-fields.js';
import { SqlState } from '../protocol/sqlstate.js';

const CLIENT_CAUSED = new Set(['08', '0A', '22', '54']);

export interface LossEvidence {
  /** Bytes the relay held back when the connection ended (normally the server's FATAL). */
  readonly held?: Buffer | undefined;
  /** The client's stream was mid-message when the connection ended. */
  readonly clientMidMessage: boolean;
}

/** The error to end the session with when the loss was caused by the client's bytes; undefined otherwise. */
export function clientCausedLoss(evidence: LossEvidence, reason: string): ClientError | undefined {
  const fatal = firstFatal(evidence.held);
  if (fatal && CLIENT_CAUSED.has(fatal.code.slice(0, 2))) {
    return new ClientError({ code: fatal.code, message: fatal.message, detail: fatal.detail,
      hint: fatal.hint ?? 'Redshift closed the connection because of what the client sent; the proxy does not reconnect such a session. Reconnect, and check the client or driver.' });
  }
  if (evidence.clientMidMessage) {
    return new ClientError({ code: fatal?.code ?? SqlState.ConnectionFailure,
      message: fatal?.message ?? `the connection to Redshift was lost (${reason}) while the client was sending a message`,
      detail: 'Part of a message had already gone to the lost connection, so the session cannot continue on a new one.',
      hint: 'Reconnect and retry.' });
  }
  return undefined;
}

function firstFatal(held: Buffer | undefined): { code: string; message: string; detail?: string; hint?: string } | undefined {
  if (!held || held.length < 5 || held[0] !== BackendCode.ErrorResponse) return undefined;
  const length = held.readInt32BE(1);
  if (length < 4 || held.length < 1 + length) return undefined;
  const e = decodeErrorFields(held.subarray(5, 1 + length));
  return e.severity === 'FATAL' || e.severity === 'PANIC' ? e : undefined;
}
