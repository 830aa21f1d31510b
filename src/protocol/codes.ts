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

/** Type bytes of the backend messages the proxy itself writes or inspects. */
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
} as const;

/** Type bytes of frontend messages the proxy inspects. */
export const FrontendCode = {
  /** 'p' — PasswordMessage / SASLInitialResponse / SASLResponse. */
  Password: 0x70,
  /** 'X' — Terminate. */
  Terminate: 0x58,
  /** 'Q' — simple Query. */
  Query: 0x51,
  /**
   * 'i' — Redshift's identity-provider token message, the answer to AuthenticationRequest 14 (not in PostgreSQL):
   * Int32 length (counts itself), the token, a NUL. See upstream/auth/idp-token.ts.
   */
  IdpToken: 0x69,
  /** 'S' — Sync. */
  Sync: 0x53,
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
