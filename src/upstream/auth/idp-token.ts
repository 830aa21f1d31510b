/**
 * Redshift's identity-provider token login: AuthenticationRequest 14 (AUTH_REQ_IDP) → the 'i' message.
 * Not part of PostgreSQL, so not in its protocol chapter; read from both AWS drivers:
 *  - aws/amazon-redshift-jdbc-driver src/main/java/com/amazon/redshift/core/v3/ConnectionFactoryImpl.java:
 *    `AUTH_REQ_IDP = 14` (line 75); `doAuthentication`, `case AUTH_REQ_IDP` (lines 800-823): the request carries
 *    nothing after the code; the answer is sendChar('i'), sendInteger4(4 + token.length + 1), the UTF-8 token,
 *    sendChar(0) — the length counts itself, the token and the NUL, as PostgreSQL lengths do;
 *  - aws/amazon-redshift-python-driver redshift_connector/core.py `handle_AUTHENTICATION_REQUEST`, branch
 *    `auth_code == 14` (lines 1374-1388): `create_message(b"i", token)`, the same without the NUL (the NUL write
 *    is commented out), so the server reads the token by the length and tolerates either form.
 * We send the JDBC form. The token is sent only because the upstream connection is verified TLS (DESIGN.md).
 */
import { bytes, message } from '../../protocol/builder.js';
import { FrontendCode } from '../../protocol/codes.js';
import { UpstreamAuthError } from './auth-error.js';

const NUL = Buffer.from([0]);

export function idpTokenResponse(token: string): Buffer {
  if (token.length === 0) throw new UpstreamAuthError('Redshift asked for an Identity Center token, but the token is empty');
  // The server reads a C string or the length; a NUL inside would cut the token short or be taken for its end.
  if (token.includes('\0')) throw new UpstreamAuthError('the Identity Center token contains a NUL character and cannot be sent to Redshift');
  return message(FrontendCode.IdpToken, [bytes(Buffer.from(token, 'utf8')), bytes(NUL)]);
}
