/**
 * Startup parameters the proxy refuses before any AWS call, and the errors for bad input before login.
 */
import { ClientError } from '../protocol/client-error.js';
import { SqlState } from '../protocol/sqlstate.js';

export function checkStartup(params: Map<string, string>): void {
  if (!params.get('user')) {
    throw new ClientError({
      code: SqlState.InvalidAuthorizationSpecification,
      message: 'no user name was given in the startup packet',
      hint: 'Set the user name in your tool\'s connection settings (it becomes the Redshift database user).',
    });
  }
  const replication = params.get('replication');
  if (replication !== undefined && !['false', 'off', 'no', '0'].includes(replication.toLowerCase())) {
    throw new ClientError({
      code: SqlState.FeatureNotSupported,
      message: 'replication connections are not supported through redshift-auth-proxy',
      hint: 'Redshift does not offer PostgreSQL replication; connect without the replication parameter.',
    });
  }
}

export function protocolError(message: string): ClientError {
  return new ClientError({
    code: SqlState.ProtocolViolation,
    message: `invalid connection request: ${message}`,
    hint: 'Connect with a PostgreSQL client (psql, JDBC, ODBC, libpq-based tools) to this port.',
  });
}

export function internalError(err: unknown): ClientError {
  return new ClientError({
    code: SqlState.InternalError,
    message: `internal error in redshift-auth-proxy: ${err instanceof Error ? err.message : String(err)}`,
    hint: 'Please report this with the proxy log.',
  }, { cause: err });
}
