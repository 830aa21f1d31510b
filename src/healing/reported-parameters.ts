/**
 * Which reported parameters (ParameterStatus) the session tracker may restore or must watch, and which client
 * encodings it can read (see session-tracker.ts).
 */

/** Reported settings a SET can restore; others (server_version, in_hot_standby…) are not the session's. */
export const SETTABLE_REPORTED = new Set(['application_name', 'client_encoding', 'datestyle', 'intervalstyle', 'timezone',
  'standard_conforming_strings', 'default_transaction_read_only', 'search_path', 'scram_iterations']);
/** Reported parameters that change when the session's identity does (SET ROLE, SET SESSION AUTHORIZATION). */
export const IDENTITY_REPORTED = new Set(['session_authorization', 'is_superuser']);
/** Client encodings in which every byte below 0x80 is that ASCII character (so quotes and `;` are what they seem). */
const ASCII_SAFE = /^(?:UTF8|UNICODE|SQL_ASCII|LATIN\d+|ISO_?8859_?\d+|WIN\d+|EUC_\w+|KOI8\w?|MULE_INTERNAL|ISO_8859_\d+)$/i;

/** The proxy can lex statements sent in this client encoding. */
export function readableEncoding(encoding: string): boolean {
  return ASCII_SAFE.test(encoding);
}
