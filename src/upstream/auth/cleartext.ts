/**
 * AuthenticationCleartextPassword (code 3) → PasswordMessage: 'p', int32 length, the password as a C string.
 * https://www.postgresql.org/docs/current/protocol-message-formats.html#PROTOCOL-MESSAGE-FORMATS-PASSWORDMESSAGE
 * Sending the password itself is acceptable only because the upstream connection is verified TLS (DESIGN.md).
 */
import { cstring, message } from '../../protocol/builder.js';
import { FrontendCode } from '../../protocol/codes.js';
import { UpstreamAuthError } from './auth-error.js';
import type { PasswordSecret } from './login-secret.js';

export function cleartextResponse(secret: PasswordSecret): Buffer {
  // A C string ends at the first NUL; a password containing one would be silently cut short.
  if (secret.password.includes('\0')) {
    throw new UpstreamAuthError('the database password contains a NUL character and cannot be sent to Redshift');
  }
  return message(FrontendCode.Password, [cstring(secret.password)]);
}
