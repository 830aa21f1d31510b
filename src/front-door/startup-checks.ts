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
  if (replication === undefined) return;
  const wanted = replication === 'database' ? true : parseBool(replication);
  if (wanted === undefined) {
    // PostgreSQL's own answer to a value it cannot read (FATAL 22023), with its hint.
    throw new ClientError({
      code: SqlState.InvalidParameterValue,
      message: `invalid value for parameter "replication": "${replication}"`,
      hint: 'Valid values are: "false", 0, "true", 1, "database".',
    });
  }
  if (wanted) {
    throw new ClientError({
      code: SqlState.FeatureNotSupported,
      message: 'replication connections are not supported through redshift-auth-proxy',
      hint: 'Redshift does not offer PostgreSQL replication; connect without the replication parameter.',
    });
  }
}

/**
 * A boolean as PostgreSQL's parse_bool reads it: true/false, yes/no and any unambiguous prefix of them, on/off
 * (at least two letters), 1/0; case-insensitive. Undefined for anything else.
 */
export function parseBool(value: string): boolean | undefined {
  const v = value.toLowerCase();
  if (v.length === 0) return undefined;
  const prefixOf = (word: string): boolean => word.startsWith(v);
  if (prefixOf('true') || prefixOf('yes')) return true;
  if (prefixOf('false') || prefixOf('no')) return false;
  if (v === 'on') return true;
  if (v.length >= 2 && prefixOf('off')) return false;
  if (v === '1') return true;
  if (v === '0') return false;
  return undefined;
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
