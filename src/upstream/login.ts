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
/**
 * The ParameterStatus and NoticeResponse frames kept for the client, in bytes all together. Redshift sends about
 * twenty ParameterStatus (under 1 KB); a hostile or broken server flooding them until the startup timeout would
 * otherwise make every login hold whatever it sent (30 sessions held 1 GB).
 */
export const MAX_LOGIN_STATUS_BYTES = 256 * 1024;

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

/** What an IAM Identity Center listener tells Redshift in the startup, besides the client's own parameters. */
export interface IdcStartup {
  /** `identity_namespace`: which Identity Center application of the cluster; Redshift's default when absent. */
  readonly namespace?: string | undefined;
  /** `idc_client_display_name`: the name of the application that logs in. */
  readonly displayName?: string | undefined;
}

/** The value we send as `plugin_name` (Redshift records it in STL_CONNECTION_LOG.plugin_name). */
export const IDC_PLUGIN_NAME = 'redshift-auth-proxy';

/**
 * Parameters the drivers send to choose Redshift's native identity-provider login; a client's own values for them
 * are dropped, so that only the proxy decides how it logs in.
 */
const NATIVE_AUTH_PARAMS = new Set(['idp_type', 'token_type', 'identity_namespace', 'idc_client_display_name',
  'plugin_name', 'provider_name']);

/**
 * The startup parameters of an IAM Identity Center login, as the Redshift drivers build them
 * (amazon-redshift-jdbc-driver core/v3/ConnectionFactoryImpl.java getParametersForStartup, lines 369-506;
 * redshift_connector/core.py lines 559-594 and set_idc_plugins_params, lines 2584-2610): `idp_type=AwsIdc`,
 * `token_type=ACCESS_TOKEN` (what BrowserIdcAuthPlugin sends: the token is Identity Center's own access token),
 * `identity_namespace` and `idc_client_display_name` when set, and `plugin_name`. No `user`: the token names the
 * database user, and the JDBC driver leaves `user` out for native logins when it has none (line 412).
 * The client's other parameters follow in their order, its user name dropped.
 */
export function idcStartupParams(client: ReadonlyMap<string, string>, database: string, idc: IdcStartup): Map<string, string> {
  const params = new Map<string, string>([['database', database]]);
  for (const [k, v] of client) if (k !== 'user' && k !== 'database' && !NATIVE_AUTH_PARAMS.has(k)) params.set(k, v);
  params.set('plugin_name', IDC_PLUGIN_NAME);
  params.set('idp_type', 'AwsIdc');
  params.set('token_type', 'ACCESS_TOKEN');
  if (idc.namespace !== undefined) params.set('identity_namespace', idc.namespace);
  if (idc.displayName !== undefined) params.set('idc_client_display_name', idc.displayName);
  return params;
}

/** The `session_authorization` a server reported at login (PostgreSQL and Redshift report it), if any. */
export function sessionUser(statusFrames: readonly Buffer[]): string | undefined {
  for (const frame of statusFrames) {
    if (frame[0] !== BackendCode.ParameterStatus) continue;
    const body = frame.subarray(5);
    const nameEnd = body.indexOf(0);
    if (nameEnd < 0 || body.toString('utf8', 0, nameEnd) !== 'session_authorization') continue;
    const valueEnd = body.indexOf(0, nameEnd + 1);
    return body.toString('utf8', nameEnd + 1, valueEnd < 0 ? body.length : valueEnd);
  }
  return undefined;
}

/** `startup` is the StartupMessage to send (see startupMessage), built once by the caller, who also checked its size. */
export function login(socket: TLSSocket, startup: Buffer, secret: LoginSecret,
  signal?: AbortSignal): Promise<LoginResult> {
  return new Promise<LoginResult>((resolve, reject) => {
    const reader = new FrameReader(MAX_LOGIN_FRAME);
    const exchange = createAuthExchange(secret);
    const statusFrames: Buffer[] = [];
    let statusBytes = 0;
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
              statusBytes += frame.raw.length;
              if (statusBytes > MAX_LOGIN_STATUS_BYTES) {
                throw new UpstreamProtocolError(`Redshift sent more than ${MAX_LOGIN_STATUS_BYTES / 1024} KB of parameter and notice messages during login`);
              }
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
