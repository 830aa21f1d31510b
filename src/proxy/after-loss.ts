/**
 * What the session reads from its client while it has no upstream connection after a loss: the rest of an open
 * extended batch up to its Sync (skip-to-sync.ts), or the statements of a transaction the loss rolled back, answered
 * 25P02 until ROLLBACK (failed-transaction.ts). Each reports to the session as a stepper event.
 */
import { TxStatus } from '../protocol/codes.js';
import { FailedTransaction } from '../healing/failed-transaction.js';
import { SkipToSync } from '../healing/skip-to-sync.js';
import type { SessionTracker } from '../healing/session-tracker.js';
import type { ClientPort } from './client-port.js';
import type { SessionEvent } from './session-stepper.js';

type Dispatch = (event: SessionEvent) => void;

export function readUntilSync(client: ClientPort, dispatch: Dispatch): void {
  const skip = new SkipToSync();
  const reason = 'the connection was lost inside an extended-protocol batch';
  client.read((chunk) => {
    let outcome;
    try {
      outcome = skip.consume(chunk);
    } catch {
      client.destroy();
      dispatch({ type: 'client-gone', reason: 'malformed message' });
      return;
    }
    if (outcome.kind === 'skipping') return;
    client.read(undefined);
    if (outcome.kind === 'terminate') {
      dispatch({ type: 'client-terminated' });
      return;
    }
    client.pause();
    dispatch({ type: 'synced', rest: outcome.rest, reason });
  });
  client.resume();
}

export function answerFailedTransaction(client: ClientPort, tracker: SessionTracker, firstError: Buffer | undefined,
  pending: Buffer | undefined, dispatch: Dispatch): void {
  const failed = new FailedTransaction(firstError);
  const onData = (chunk: Buffer): void => {
    let outcome;
    try {
      outcome = failed.consume(chunk);
    } catch {
      client.destroy();
      dispatch({ type: 'client-gone', reason: 'malformed message' });
      return;
    }
    if (outcome.reply.length > 0) client.write(outcome.reply);
    if (outcome.end?.kind === 'terminate') {
      client.read(undefined);
      dispatch({ type: 'client-terminated' });
    } else if (outcome.end?.kind === 'rolled-back') {
      client.read(undefined);
      client.pause();
      tracker.status = TxStatus.Idle;
      dispatch({ type: 'rolled-back', rest: outcome.end.rest });
    }
  };
  client.read(onData);
  client.resume();
  if (pending && pending.length > 0) onData(pending);
}
