/**
 * From a client's startup parameters to a logged-in upstream session: credential (from the cache), verified TLS
 * connection, login as the returned DbUser with the client's other parameters passed through.
 */
import type { TLSSocket } from 'node:tls';
import { ClientError } from '../protocol/client-error.js';
import { SqlState } from '../protocol/sqlstate.js';
import { connectTls } from '../upstream/connect-tls.js';
import { startupMessage } from '../protocol/frontend-messages.js';
import { login, UpstreamLoginError, UpstreamProtocolError } from '../upstream/login.js';
import type { BackendKey } from '../upstream/login.js';
import type { UpstreamEndpoint } from '../upstream/upstream-endpoint.js';
import { UpstreamAuthError } from '../upstream/auth/auth-exchange.js';
import type { ResolvedLogin, Target } from './target.js';

export interface UpstreamSession {
  readonly socket: TLSSocket;
  readonly endpoint: UpstreamEndpoint;
  readonly dbUser: string;
  /** When the credential this connection logged in with expires (warm spares are not kept beyond it). */
  readonly credentialExpiresAt: Date;
  readonly database: string;
  readonly statusFrames: readonly Buffer[];
  readonly backendKey: BackendKey | undefined;
  readonly readyForQuery: Buffer;
  /** Server bytes that arrived after ReadyForQuery during login. */
  readonly leftover: Buffer;
}

/** The largest startup packet PostgreSQL (and Redshift) accept (MAX_STARTUP_PACKET_LENGTH). */
const MAX_UPSTREAM_STARTUP = 10_000;

/** SQLSTATEs meaning "these credentials were not accepted" — worth one retry with a freshly issued credential. */
const CREDENTIAL_REFUSED = new Set([SqlState.InvalidPassword, SqlState.InvalidAuthorizationSpecification]);

export async function openUpstream(target: Target, clientParams: ReadonlyMap<string, string>,
  signal: AbortSignal): Promise<UpstreamSession> {
  const clientUser = clientParams.get('user') as string;
  target.checkUser(clientUser);
  const database = target.databaseFor(clientParams.get('database'));
  const request = target.requestFor(clientUser, database);
  let resolved = await target.resolve(request, signal);
  try {
    return await attempt(target, resolved, clientParams, database, signal);
  } catch (err) {
    // A cached credential can stop working before its expiry (the user was altered, the cluster restored):
    // drop it and try once more with a new one rather than failing every connection until it expires.
    const refused = err instanceof UpstreamLoginError && CREDENTIAL_REFUSED.has(err.fields.code as never);
    if (!refused || signal.aborted) throw translate(err, resolved, database);
    target.invalidate(resolved);
    resolved = await target.resolve(request, signal);
    try {
      return await attempt(target, resolved, clientParams, database, signal);
    } catch (again) {
      throw translate(again, resolved, database);
    }
  }
}

async function attempt(target: Target, resolved: ResolvedLogin, clientParams: ReadonlyMap<string, string>,
  database: string, signal: AbortSignal): Promise<UpstreamSession> {
  const params = upstreamParams(clientParams, resolved.credential.user, database);
  checkStartupSize(params, resolved.credential.user);
  const endpoint = await target.endpoint();
  const socket = await connectTls(endpoint, signal);
  try {
    const result = await login(socket, params, { user: resolved.credential.user, password: resolved.credential.password }, signal);
    return { socket, endpoint, dbUser: resolved.credential.user, database, credentialExpiresAt: resolved.credential.expiresAt, ...result };
  } catch (err) {
    socket.destroy();
    throw err;
  }
}

/**
 * PostgreSQL and Redshift refuse startup packets over 10,000 bytes by closing the connection. The database user
 * name the API returns can be longer than the client's, so a packet the client kept within the limit may not be:
 * say so instead of letting it look like a cluster failure.
 */
function checkStartupSize(params: ReadonlyMap<string, string>, dbUser: string): void {
  const size = startupMessage(params).length;
  if (size > MAX_UPSTREAM_STARTUP) {
    throw new ClientError({
      code: SqlState.ProtocolViolation,
      message: `the connection parameters are too long for Redshift once the user is "${dbUser}" (${size} bytes; the limit is ${MAX_UPSTREAM_STARTUP})`,
      hint: 'Shorten the options or other startup parameters your tool sends.',
    });
  }
}

/** The client's parameters, in order, with user and database replaced. */
function upstreamParams(client: ReadonlyMap<string, string>, dbUser: string, database: string): Map<string, string> {
  const params = new Map<string, string>([['user', dbUser], ['database', database]]);
  for (const [k, v] of client) if (k !== 'user' && k !== 'database') params.set(k, v);
  return params;
}

function translate(err: unknown, resolved: ResolvedLogin, database: string): unknown {
  if (err instanceof ClientError) return err;
  const user = resolved.credential.user;
  if (err instanceof UpstreamLoginError) {
    const f = err.fields;
    if (CREDENTIAL_REFUSED.has(f.code as never)) {
      return new ClientError({
        code: f.code,
        message: `Redshift refused the temporary credentials for database user "${user}"`,
        detail: `Redshift said: ${f.message}`,
        hint: 'If that user does not exist in the database, start the proxy with --auto-create (needs the IAM permission redshift:CreateClusterUser) or ask an administrator to create it; check --db-groups names exist.',
      }, { cause: err });
    }
    return new ClientError({
      code: f.code,
      message: f.message,
      detail: f.detail ?? `while logging in to database "${database}" as "${user}"`,
      hint: f.hint ?? (f.code === SqlState.InvalidCatalogName ? 'Check the database name in your tool\'s connection settings.'
        : 'Redshift refused the session while logging in: check the connection settings and options your tool sends.'),
    }, { cause: err });
  }
  if (err instanceof UpstreamAuthError) {
    return new ClientError({
      code: SqlState.SqlserverRejectedEstablishmentOfSqlconnection,
      message: `login to Redshift failed: ${err.reason}`,
      hint: 'Check that --upstream points at the Redshift endpoint itself.',
    }, { cause: err });
  }
  if (err instanceof UpstreamProtocolError) {
    return new ClientError({
      code: SqlState.SqlclientUnableToEstablishSqlconnection,
      message: err.message,
      hint: 'The cluster may be restarting or unreachable; try again shortly.',
    }, { cause: err });
  }
  return err;
}
