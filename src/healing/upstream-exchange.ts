/**
 * A short conversation the proxy holds with an upstream connection on its own behalf, out of the client's sight:
 * write some messages, consume the answers up to the expected number of ReadyForQuery, and fail on any
 * ErrorResponse, on the connection closing or on a deadline. Used to rebuild a healed session and to reset a
 * session before its connection is reused.
 */
import type { TLSSocket } from 'node:tls';
import { BackendCode } from '../protocol/codes.js';
import { decodeErrorFields } from '../protocol/error-fields.js';
import { FrameReader } from '../protocol/frame-reader.js';

export interface ExchangeWording {
  /** What the proxy was doing, for messages: "restoring the session". */
  readonly doing: string;
  /** SQLSTATEs tolerated in the answer to the n-th ReadyForQuery-ended message (a command the server may lack). */
  readonly tolerated?: ReadonlyArray<ReadonlySet<string> | undefined>;
}

/** Resolves with bytes that followed the last expected ReadyForQuery (normally none); leaves the socket paused. */
export function upstreamExchange(socket: TLSSocket, out: Buffer, readyForQueries: number, timeoutMs: number,
  wording: ExchangeWording): Promise<Buffer> {
  let expected = readyForQueries;
  if (expected === 0) return Promise.resolve(Buffer.alloc(0));
  return new Promise<Buffer>((resolve, reject) => {
    const reader = new FrameReader(1 << 20);
    let failure: string | undefined;
    const timer = setTimeout(() => done(new Error(`Redshift did not answer while ${wording.doing}`)), timeoutMs);
    const done = (err?: Error, rest?: Buffer): void => {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('close', onClose);
      socket.pause();
      if (err) reject(err);
      else resolve(rest ?? Buffer.alloc(0));
    };
    const onClose = (): void => done(new Error(`Redshift closed the connection while ${wording.doing}`));
    const onData = (chunk: Buffer): void => {
      reader.push(chunk);
      try {
        for (let f = reader.nextTyped(); f; f = reader.nextTyped()) {
          if (f.type === BackendCode.ErrorResponse) {
            const e = decodeErrorFields(f.body);
            if (!wording.tolerated?.[readyForQueries - expected]?.has(e.code)) failure ??= e.message;
          }
          if (f.type === BackendCode.ReadyForQuery && --expected === 0) {
            if (failure) done(new Error(`${wording.doing} failed: ${failure}`));
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
    socket.write(out);
    socket.resume();
  });
}
