/**
 * From a client's startup parameters to a logged-in upstream session: credential (from the cache) and verified TLS
 * connection at the same time, then login as the returned DbUser with the client's other parameters passed through.
 */
import type { TLSSocket } from 'node:tls';
import { ClientError } from '../protocol/client-error.js';
import { SqlState } from '../protocol/sqlstate.js';
import { connectTls } from '../upstream/connect-tls.js';
import { startupMessage } from '../protocol/frontend-messages.js';
import { idcStartupParams, login, sessionUser, UpstreamLoginError, UpstreamProtocolError } from '../upstream/login.js';
import type { BackendKey } from '../upstream/login.js';
import { IdcToken } from '../credentials/idc-token.js';
import type { LoginSecret } from '../upstream/auth/auth-exchange.js';
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
  for (let retried = false; ; retried = true) {
    // The connection needs no credential until the login: open it while the credential is looked up. A failed
    // lookup is still the error reported (it is awaited first), and the connection is then closed unused.
    let connection = connect(target, signal);
    let resolved: ResolvedLogin;
    try {
      resolved = await target.resolve(request, signal);
    } catch (err) {
      discard(connection);
      throw err;
    }
    // A person signed in meanwhile (minutes, perhaps): the server may have closed the idle unauthenticated connection.
    if (resolved.afterSignIn) {
      discard(connection);
      connection = connect(target, signal);
    }
    try {
      return await attempt(target, resolved, connection, clientParams, database, signal);
    } catch (err) {
      // A cached credential can stop working before its expiry (the user was altered, the cluster restored, an
      // Identity Center token revoked): drop it and try once more with a new one rather than failing every
      // connection until it expires.
      // (For a token, "no such identity provider" is about the cluster, not the token: that one is kept.)
      const refused = err instanceof UpstreamLoginError && CREDENTIAL_REFUSED.has(err.fields.code as never)
        && !(resolved.credential instanceof IdcToken && /identity provider/i.test(err.fields.message));
      // A refused token is dropped even on the last attempt: it must never be sent again.
      if (refused && (resolved.credential instanceof IdcToken || (!retried && !signal.aborted))) target.invalidate(resolved);
      if (retried || !refused || signal.aborted) {
        throw resolved.credential instanceof IdcToken ? translateIdc(err, target, database) : translate(err, resolved, database);
      }
    }
  }
}

interface Connection {
  readonly endpoint: UpstreamEndpoint;
  readonly socket: TLSSocket;
}

/**
 * Starts the TCP + SSLRequest + TLS part of a login, which needs no credential. Aborting the signal ends it while
 * it opens; once open, the caller logs in on it or `discard`s it.
 */
function connect(target: Target, signal: AbortSignal): Promise<Connection> {
  const connection = target.endpoint().then(async (endpoint) => ({ endpoint, socket: await connectTls(endpoint, signal) }));
  // Awaited only once the credential is there, perhaps after it failed: that is no unhandled rejection.
  connection.catch(() => undefined);
  return connection;
}

/** Closes a connection that will not be used, whenever it completes; its failure is nobody's concern. */
function discard(connection: Promise<Connection>): void {
  connection.then((c) => c.socket.destroy(), () => undefined);
}

async function attempt(target: Target, resolved: ResolvedLogin, connection: Promise<Connection>,
  clientParams: ReadonlyMap<string, string>, database: string, signal: AbortSignal): Promise<UpstreamSession> {
  const credential = resolved.credential;
  let startup: Buffer;
  let secret: LoginSecret;
  try {
    if (credential instanceof IdcToken) {
      startup = checkedStartup(idcStartupParams(clientParams, database, target.idc ?? {}), credential.user);
      secret = { token: () => credential.value };
    } else {
      startup = checkedStartup(upstreamParams(clientParams, credential.user, database), credential.user);
      secret = { user: credential.user, password: credential.password };
    }
  } catch (err) {
    discard(connection);
    throw err;
  }
  const { endpoint, socket } = await connection;
  try {
    const result = await login(socket, startup, secret, signal);
    // With Identity Center only Redshift knows the user (AWSIDC:<person>) until it says so at login.
    const dbUser = credential instanceof IdcToken ? sessionUser(result.statusFrames) ?? credential.user : credential.user;
    return { socket, endpoint, dbUser, database, credentialExpiresAt: credential.expiresAt, ...result };
  } catch (err) {
    socket.destroy();
    throw err;
  }
}

/**
 * The StartupMessage for the upstream login, built once. PostgreSQL and Redshift refuse startup packets over 10,000
 * bytes by closing the connection. The database user name the API returns can be longer than the client's, so a
 * packet the client kept within the limit may not be: say so instead of letting it look like a cluster failure.
 */
function checkedStartup(params: ReadonlyMap<string, string>, dbUser: string): Buffer {
  const startup = startupMessage(params);
  const size = startup.length;
  if (size > MAX_UPSTREAM_STARTUP) {
    throw new ClientError({
      code: SqlState.ProtocolViolation,
      message: `the connection parameters are too long for Redshift once the user is "${dbUser}" (${size} bytes; the limit is ${MAX_UPSTREAM_STARTUP})`,
      hint: 'Shorten the options or other startup parameters your tool sends.',
    });
  }
  return startup;
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

/**
 * An Identity Center login that failed, for the person at the tool. Redshift's texts for a refused token (Amazon
 * Redshift Management Guide, "Troubleshooting Identity Center authentication"): "Token credentials expired or
 * invalid", "invalid token", "Invalid scope. User's credentials are not authorized to connect to Amazon Redshift",
 * 'identity provider type "awsidc" is not supported', "AWS IdC identity provider does not exist". The refused
 * token has already been dropped (target.invalidate), so the next connection gets a new one.
 */
function translateIdc(err: unknown, target: Target, database: string): unknown {
  if (err instanceof ClientError) return err;
  if (err instanceof UpstreamLoginError) {
    const f = err.fields;
    const said = `Redshift said: ${f.message}`;
    // Before the generic refusal: these are 28000 too, but no new token would help.
    if (/identity provider/i.test(f.message)) {
      return new ClientError({ code: f.code, message: f.message, detail: `while logging in to database "${database}" with IAM Identity Center`,
        hint: f.hint ?? 'Identity Center is not set up for this cluster or workgroup (or for this --idc-namespace): an administrator enables it in the Redshift console, or start the proxy without --idc-issuer-url.' }, { cause: err });
    }
    if (CREDENTIAL_REFUSED.has(f.code as never)) {
      const scope = /scope|not authorized|not assigned/i.test(f.message);
      return new ClientError({
        code: SqlState.InvalidAuthorizationSpecification,
        message: scope ? 'Redshift refused the IAM Identity Center login: your Identity Center user may not connect to this cluster'
          : 'Redshift refused the IAM Identity Center token',
        detail: said,
        hint: scope ? 'Ask an administrator to assign your Identity Center user (or a group of yours) to the cluster\'s Identity Center application, and check that the token has the redshift:connect scope.'
          : 'refusalHint' in target.source ? target.source.refusalHint : 'Connect again to get a new token.',
      }, { cause: err });
    }
    return new ClientError({ code: f.code, message: f.message, detail: f.detail ?? `while logging in to database "${database}" with IAM Identity Center`,
      hint: f.hint ?? (f.code === SqlState.InvalidCatalogName ? 'Check the database name in your tool\'s connection settings.'
        : 'Redshift refused the session while logging in: check the connection settings and options your tool sends.') }, { cause: err });
  }
  if (err instanceof UpstreamAuthError) {
    return new ClientError({ code: SqlState.SqlserverRejectedEstablishmentOfSqlconnection,
      message: `IAM Identity Center login to Redshift failed: ${err.reason}`,
      hint: 'Check that --upstream names the endpoint of a cluster or workgroup with Identity Center enabled.' }, { cause: err });
  }
  if (err instanceof UpstreamProtocolError) {
    return new ClientError({ code: SqlState.SqlclientUnableToEstablishSqlconnection, message: err.message,
      hint: 'The cluster may be restarting or unreachable; try again shortly.' }, { cause: err });
  }
  return err;
}
