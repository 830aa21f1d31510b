/**
 * Protocol constants we read or write.
 * See https://www.postgresql.org/docs/current/protocol-message-formats.html
 */

/** Request codes carried in the int32 that follows the length of an untyped (startup-phase) frame. */
export const RequestCode = {
  /** StartupMessage for protocol 3.0: major 3 in the high 16 bits, minor 0 in the low. */
  Protocol3: 196608,
  /** 1234.5679 — SSLRequest. */
  SSLRequest: 80877103,
  /** 1234.5680 — GSSENCRequest. */
  GSSENCRequest: 80877104,
  /** 1234.5678 — CancelRequest. */
  CancelRequest: 80877102,
} as const;

/** Type bytes of backend messages (server to client); the character in each comment. */
export const BackendCode = {
  /** 'R' — Authentication* family. */
  Authentication: 0x52,
  /** 'S' — ParameterStatus. */
  ParameterStatus: 0x53,
  /** 'K' — BackendKeyData. */
  BackendKeyData: 0x4b,
  /** 'Z' — ReadyForQuery. */
  ReadyForQuery: 0x5a,
  /** 'E' — ErrorResponse. */
  ErrorResponse: 0x45,
  /** 'N' — NoticeResponse. */
  NoticeResponse: 0x4e,
  /** 'v' — NegotiateProtocolVersion. */
  NegotiateProtocolVersion: 0x76,
  /** '1' — ParseComplete. */
  ParseComplete: 0x31,
  /** '2' — BindComplete. */
  BindComplete: 0x32,
  /** '3' — CloseComplete. */
  CloseComplete: 0x33,
  /** 'n' — NoData. */
  NoData: 0x6e,
  /** 'C' — CommandComplete. */
  CommandComplete: 0x43,
  /** 's' — PortalSuspended. */
  PortalSuspended: 0x73,
  /** 'T' — RowDescription. */
  RowDescription: 0x54,
  /** 'D' — DataRow. */
  DataRow: 0x44,
  /** 'I' — EmptyQueryResponse. */
  EmptyQueryResponse: 0x49,
  /** 'V' — FunctionCallResponse. */
  FunctionCallResponse: 0x56,
} as const;

/** Type bytes of frontend messages (client to server); the character in each comment. */
export const FrontendCode = {
  /** 'p' — PasswordMessage / SASLInitialResponse / SASLResponse. */
  Password: 0x70,
  /** 'X' — Terminate. */
  Terminate: 0x58,
  /** 'Q' — simple Query. */
  Query: 0x51,
  /** 'P' — Parse. */
  Parse: 0x50,
  /** 'B' — Bind. */
  Bind: 0x42,
  /** 'D' — Describe. */
  Describe: 0x44,
  /** 'E' — Execute. */
  Execute: 0x45,
  /** 'C' — Close (then 'S' statement or 'P' portal). */
  Close: 0x43,
  /** 'H' — Flush. */
  Flush: 0x48,
  /** 'S' — Sync. */
  Sync: 0x53,
  /** 'F' — FunctionCall. */
  FunctionCall: 0x46,
  /** 'd' — CopyData. */
  CopyData: 0x64,
  /** 'd' — Redshift's answer to its digest request (AuthCode 13), which reuses CopyData's byte. */
  RedshiftDigestResponse: 0x64,
  /**
   * 'i' — Redshift's identity-provider token message, the answer to AuthenticationRequest 14 (not in PostgreSQL):
   * Int32 length (counts itself), the token, a NUL. See upstream/auth/idp-token.ts.
   */
  IdpToken: 0x69,
} as const;

/** Close's target kind: 'S' prepared statement, 'P' portal. */
export const CloseTarget = {
  Statement: 0x53,
  Portal: 0x50,
} as const;

/** Authentication request codes (the int32 after 'R'). */
export const AuthCode = {
  Ok: 0,
  CleartextPassword: 3,
  MD5Password: 5,
  SASL: 10,
  SASLContinue: 11,
  SASLFinal: 12,
  /** Redshift's own salted SHA-256 digest request (not in PostgreSQL). */
  RedshiftDigest: 13,
  /** AUTH_REQ_IDP: Redshift asks for an identity-provider token, e.g. IAM Identity Center's (not in PostgreSQL). */
  IdpToken: 14,
} as const;

/** Transaction status byte carried by ReadyForQuery. */
export const TxStatus = {
  /** 'I' — idle, not in a transaction block. */
  Idle: 0x49,
  /** 'T' — in a transaction block. */
  InTransaction: 0x54,
  /** 'E' — in a failed transaction block. */
  Failed: 0x45,
} as const;

/** The single-byte answers to SSLRequest / GSSENCRequest. */
export const SslAnswer = {
  /** 'S' — willing to perform TLS. */
  Yes: 0x53,
  /** 'N' — not willing. */
  No: 0x4e,
} as const;

/** Field types inside ErrorResponse / NoticeResponse (https://www.postgresql.org/docs/current/protocol-error-fields.html). */
export const ErrorField = {
  /** 'S' — severity, localized. */
  Severity: 0x53,
  /** 'V' — severity, never localized (9.6+). */
  SeverityRaw: 0x56,
  /** 'C' — SQLSTATE. */
  Code: 0x43,
  /** 'M' — message. */
  Message: 0x4d,
  /** 'D' — detail. */
  Detail: 0x44,
  /** 'H' — hint. */
  Hint: 0x48,
} as const;
