/**
 * Rebuilds a session's state on a freshly logged-in upstream connection: one simple Query with the SET/RESET and
 * PREPARE statements the client had run, then the named protocol-level Parse messages and a Sync. The answers are
 * consumed here (the client saw them the first time); any error means the session cannot be restored.
 */
import type { TLSSocket } from 'node:tls';
import { BackendCode } from '../protocol/codes.js';
import { cstring, message } from '../protocol/builder.js';
import { decodeErrorFields } from '../protocol/error-fields.js';
import { FrameReader } from '../protocol/frame-reader.js';
import type { SessionTracker } from './session-tracker.js';

const SYNC = Buffer.from([0x53, 0, 0, 0, 4]);

/** Resolves with bytes that followed the last ReadyForQuery (normally none). */
export function replaySession(socket: TLSSocket, tracker: SessionTracker, timeoutMs: number): Promise<Buffer> {
  const text = tracker.replayText();
  const parses = tracker.replayParses();
  let expected = (text ? 1 : 0) + (parses.length > 0 ? 1 : 0);
  if (expected === 0) return Promise.resolve(Buffer.alloc(0));
  return new Promise<Buffer>((resolve, reject) => {
    const reader = new FrameReader(1 << 20);
    let failure: string | undefined;
    const timer = setTimeout(() => done(new Error('Redshift did not answer while the session was being restored')), timeoutMs);
    const done = (err?: Error, rest?: Buffer): void => {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('close', onClose);
      socket.pause();
      if (err) reject(err);
      else resolve(rest ?? Buffer.alloc(0));
    };
    const onClose = (): void => done(new Error('Redshift closed the connection while the session was being restored'));
    const onData = (chunk: Buffer): void => {
      reader.push(chunk);
      try {
        for (let f = reader.nextTyped(); f; f = reader.nextTyped()) {
          if (f.type === BackendCode.ErrorResponse) failure ??= decodeErrorFields(f.body).message;
          if (f.type === BackendCode.ReadyForQuery && --expected === 0) {
            if (failure) done(new Error(`restoring the session failed: ${failure}`));
            else done(undefined, reader.drain());
            return;
          }
        }
      } catch (err) {
        done(err instanceof Error ? err : new Error(String(err)));
      }
    };
    socket.on('data', onData);
    socket.once('close', onClose);
    const out: Buffer[] = [];
    if (text) out.push(message(0x51, [cstring(text)]));
    if (parses.length > 0) out.push(...parses, SYNC);
    socket.write(Buffer.concat(out));
    socket.resume();
  });
}
