/**
 * SQLSTATE codes the proxy reports. See https://www.postgresql.org/docs/current/errcodes-appendix.html
 */
export const SqlState = {
  /** The upstream could not be reached, refused TLS, or failed its certificate check. */
  SqlclientUnableToEstablishSqlconnection: '08001',
  /** The upstream rejected the connection for a reason other than credentials. */
  SqlserverRejectedEstablishmentOfSqlconnection: '08004',
  /** The upstream connection was lost mid-session. */
  ConnectionFailure: '08006',
  /** Malformed or unexpected protocol input from the client. */
  ProtocolViolation: '08P01',
  /** The client's identity or credentials were refused. */
  InvalidAuthorizationSpecification: '28000',
  /** The upstream refused the password (wrong or expired). */
  InvalidPassword: '28P01',
  /** A startup parameter's value cannot be read (e.g. replication=maybe). */
  InvalidParameterValue: '22023',
  /** A requested feature (replication, unsupported protocol) is not offered. */
  FeatureNotSupported: '0A000',
  /** The requested database is not the one this proxy serves. */
  InvalidCatalogName: '3D000',
  /** Too many connections. */
  TooManyConnections: '53300',
  /** The proxy is shutting down. */
  AdminShutdown: '57P01',
  /** The statement was cancelled. */
  QueryCanceled: '57014',
  /** A bug in the proxy. */
  InternalError: 'XX000',
} as const;

export type SqlStateCode = (typeof SqlState)[keyof typeof SqlState];
