/**
 * Redshift's side of its own IAM Identity Center login, for the stand-ins (the tests' in front of PostgreSQL and the
 * demo's over PGlite). What Redshift does, as the drivers show it (see src/upstream/auth/idp-token.ts and
 * src/upstream/login.ts idcStartupParams for the file and line of each fact):
 *   StartupMessage with idp_type=AwsIdc, token_type, optional identity_namespace, no user
 *   → AuthenticationRequest 14 (AUTH_REQ_IDP), 'R' length 8 and nothing after the code
 *   ← 'i', Int32 length, the token (a NUL after it from JDBC, none from redshift_connector)
 *   → AuthenticationOk …, the session running as <namespace>:<Identity Center user name>.
 * Refusals use Redshift's texts (Amazon Redshift Management Guide, "Troubleshooting Identity Center
 * authentication", connection errors), with SQLSTATE 28000: the guide gives no codes.
 */
import type { ErrorFields } from '../protocol/backend-messages.js';
import { int32, message } from '../protocol/builder.js';
import { AuthCode, BackendCode, FrontendCode } from '../protocol/codes.js';
import type { Frame } from '../protocol/frame-reader.js';
import { SqlState } from '../protocol/sqlstate.js';

/** AuthenticationRequest 14: 'R', length 8, int32 14. Built once. */
export const AUTH_REQUEST_IDP: Buffer = message(BackendCode.Authentication, [int32(AuthCode.IdpToken)]);

/** Redshift's default identity namespace: Identity Center users appear as AWSIDC:<user name>. */
export const DEFAULT_IDC_NAMESPACE = 'AWSIDC';

/** The scope an Identity Center token must carry to log in to Redshift (the drivers' REDSHIFT_IDC_CONNECT_SCOPE). */
export const REDSHIFT_CONNECT_SCOPE = 'redshift:connect';

/** What the stand-in learns about a token from its issuer (the emulator's identityCenter.validateToken fits). */
export interface IdcTokenFacts {
  readonly userName: string;
  readonly scopes: readonly string[];
  readonly expiresAt: Date;
}

/** Undefined for a token the issuer does not know or no longer honours (expired, revoked). */
export type IdcTokenCheck = (token: string) => IdcTokenFacts | undefined;

export type IdcVerdict =
  | { readonly ok: true; readonly dbUser: string; readonly userName: string; readonly expiresAt: Date }
  | { readonly ok: false; readonly fields: ErrorFields; readonly reason: string };

const refuse = (message: string, reason: string, code: string = SqlState.InvalidAuthorizationSpecification): IdcVerdict =>
  ({ ok: false, fields: { severity: 'FATAL', code, message }, reason });

/**
 * Whether a StartupMessage asks for the IdC login, and if it may: undefined when it does not ask (no idp_type), a
 * refusal when it asks for something this cluster does not offer.
 */
export function checkIdcStartup(params: ReadonlyMap<string, string>, namespace: string): IdcVerdict | { readonly ok: true } | undefined {
  const idpType = params.get('idp_type');
  if (idpType === undefined) return undefined;
  if (idpType.toLowerCase() !== 'awsidc') return refuse(`identity provider type "${idpType.toLowerCase()}" is not supported`, `idp_type=${idpType}`);
  const tokenType = params.get('token_type') ?? 'ACCESS_TOKEN';
  // This stand-in speaks only Identity Center's own access tokens, as BrowserIdcAuthPlugin sends them.
  if (tokenType !== 'ACCESS_TOKEN') return refuse('TYPE_INVALID_TOKEN', `token_type=${tokenType}`);
  const asked = params.get('identity_namespace');
  if (asked !== undefined && asked !== namespace) return refuse('AWS IdC identity provider does not exist', `identity_namespace=${asked}`);
  return { ok: true };
}

/** The token from the client's answer to AUTH_REQUEST_IDP, or undefined when the frame is not one. */
export function idpTokenOf(frame: Frame): string | undefined {
  if (frame.type !== FrontendCode.IdpToken) return undefined;
  // JDBC ends the token with a NUL, redshift_connector does not: the length is what counts.
  const end = frame.body.length > 0 && frame.body[frame.body.length - 1] === 0 ? frame.body.length - 1 : frame.body.length;
  return frame.body.toString('utf8', 0, end);
}

/** Redshift's judgement of a token: the session user, or the refusal the client is sent. */
export function judgeIdcToken(token: string | undefined, check: IdcTokenCheck, namespace: string): IdcVerdict {
  if (token === undefined) return refuse('expected an identity-provider token message', 'not an \'i\' message', SqlState.ProtocolViolation);
  if (token === '') return refuse('invalid token', 'empty token');
  const facts = check(token);
  if (!facts) return refuse('Token credentials expired or invalid', 'unknown, expired or revoked token');
  if (facts.expiresAt.getTime() <= Date.now()) return refuse('Token credentials expired or invalid', `expired at ${facts.expiresAt.toISOString()}`);
  if (!facts.scopes.includes(REDSHIFT_CONNECT_SCOPE)) {
    return refuse('Invalid scope. User\'s credentials are not authorized to connect to Amazon Redshift', `scopes ${facts.scopes.join(' ') || '(none)'}`);
  }
  return { ok: true, dbUser: `${namespace}:${facts.userName}`, userName: facts.userName, expiresAt: facts.expiresAt };
}
