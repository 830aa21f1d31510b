/**
 * Logs in to Redshift over an already verified TLS socket as the temporary database user, and collects what the
 * client must be shown as if it had logged in itself: ParameterStatus and NoticeResponse frames (raw, in order),
 * the server's BackendKeyData (kept by the proxy for cancels), and the final ReadyForQuery.
 * https://www.postgresql.org/docs/current/protocol-flow.html#PROTOCOL-FLOW-START-UP
 */
import type { TLSSocket } from 'node:tls';
import { AuthCode, BackendCode } from '../protocol/codes.js';
import { FrameReader } from '../protocol/frame-reader.js';
import { decodeErrorFields } from '../protocol/error-fields.js';
import type { DecodedError } from '../protocol/error-fields.js';
import { createAuthExchange } from './auth/auth-exchange.js';
import type { LoginSecret } from './auth/auth-exchange.js';

/** Login messages are small; anything larger is not a Redshift login. */
const MAX_LOGIN_FRAME = 1 << 20;

export interface BackendKey {
  readonly processId: number;
  readonly secretKey: number;
}

export interface LoginResult {
  /** ParameterStatus and NoticeResponse frames exactly as received. */
  readonly statusFrames: readonly Buffer[];
  readonly backendKey: BackendKey | undefined;
  /** The ReadyForQuery frame exactly as received. */
  readonly readyForQuery: Buffer;
  /** Bytes that arrived after ReadyForQuery (normally none). */
  readonly leftover: Buffer;
}

/** The server refused the login with an ErrorResponse. */
export class UpstreamLoginError extends Error {
  constructor(readonly fields: DecodedError) {
    super(fields.message);
    this.name = 'UpstreamLoginError';
  }
}

/** The connection ended or misbehaved during login. */
export class UpstreamProtocolError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UpstreamProtocolError';
  }
}

/** `startup` is the StartupMessage to send (see startupMessage), built once by the caller, who also checked its size. */
export function login(socket: TLSSocket, startup: Buffer, secret: LoginSecret,
  signal?: AbortSignal): Promise<LoginResult> {
  return new Promise<LoginResult>((resolve, reject) => {
    const reader = new FrameReader(MAX_LOGIN_FRAME);
    const exchange = createAuthExchange(secret);
    const statusFrames: Buffer[] = [];
    let backendKey: BackendKey | undefined;

    const finish = (err: Error | undefined, result?: LoginResult): void => {
      socket.off('data', onData);
      socket.off('error', onError);
      socket.off('close', onClose);
      signal?.removeEventListener('abort', onAbort);
      socket.pause();
      if (err) reject(err);
      else resolve(result as LoginResult);
    };
    const onError = (err: Error): void => finish(new UpstreamProtocolError(`connection to Redshift failed during login: ${err.message}`));
    const onClose = (): void => finish(new UpstreamProtocolError('Redshift closed the connection during login'));
    const onAbort = (): void => finish(signal?.reason instanceof Error ? signal.reason : new UpstreamProtocolError('login aborted'));

    const onData = (chunk: Buffer): void => {
      reader.push(chunk);
      try {
        for (let frame = reader.nextTyped(); frame; frame = reader.nextTyped()) {
          switch (frame.type) {
            case BackendCode.Authentication: {
              const code = frame.body.readInt32BE(0);
              if (code === AuthCode.Ok) {
                // A SCRAM server must have proven it knows the password before it may say "Ok".
                exchange.assertComplete();
                break;
              }
              const answer = exchange.respond(code, frame.body.subarray(4));
              if (answer) socket.write(answer);
              break;
            }
            case BackendCode.ParameterStatus:
            case BackendCode.NoticeResponse:
              statusFrames.push(frame.raw);
              break;
            case BackendCode.BackendKeyData:
              backendKey = { processId: frame.body.readInt32BE(0), secretKey: frame.body.readInt32BE(4) };
              break;
            case BackendCode.ErrorResponse:
              finish(new UpstreamLoginError(decodeErrorFields(frame.body)));
              return;
            case BackendCode.ReadyForQuery:
              finish(undefined, { statusFrames, backendKey, readyForQuery: frame.raw, leftover: reader.drain() });
              return;
            case BackendCode.NegotiateProtocolVersion:
              // We ask for plain 3.0 without _pq_ options; a server may still tell us so. Nothing to change.
              break;
            default:
              throw new UpstreamProtocolError(`Redshift sent an unexpected message '${String.fromCharCode(frame.type)}' during login`);
          }
        }
      } catch (err) {
        finish(err instanceof Error ? err : new UpstreamProtocolError(String(err)));
      }
    };

    if (signal?.aborted) {
      onAbort();
      return;
    }
    signal?.addEventListener('abort', onAbort, { once: true });
    socket.on('data', onData);
    socket.once('error', onError);
    socket.once('close', onClose);
    socket.write(startup);
    socket.resume();
  });
}
