/**
 * Rebuilds a session's state on a freshly logged-in upstream connection: one simple Query with the SET/RESET and
 * PREPARE statements the client had run, then the named protocol-level Parse messages and a Sync. The answers are
 * consumed here (the client saw them the first time); any error means the session cannot be restored.
 */
import type { TLSSocket } from 'node:tls';
import { byte, bytes, message } from '../protocol/builder.js';
import { FrontendCode } from '../protocol/codes.js';
import { SYNC } from '../protocol/frontend-messages.js';
import type { SessionTracker } from './session-tracker.js';
import { upstreamExchange } from './upstream-exchange.js';


/** Resolves with bytes that followed the last ReadyForQuery (normally none). */
export function replaySession(socket: TLSSocket, tracker: SessionTracker, timeoutMs: number): Promise<Buffer> {
  const text = tracker.replayQuery();
  const parses = tracker.replayParses();
  const out: Buffer[] = [];
  if (text.length > 0) out.push(message(FrontendCode.Query, [bytes(text), byte(0)]));
  if (parses.length > 0) out.push(...parses, SYNC);
  return upstreamExchange(socket, Buffer.concat(out), (text.length > 0 ? 1 : 0) + (parses.length > 0 ? 1 : 0), timeoutMs,
    { doing: 'restoring the session' });
}
