/**
 * AuthenticationMD5Password (code 5, body: Byte4 salt) → PasswordMessage carrying
 * "md5" + md5hex(md5hex(password + user) + salt), as a C string.
 * https://www.postgresql.org/docs/current/protocol-flow.html#PROTOCOL-FLOW-START-UP (AuthenticationMD5Password)
 * https://www.postgresql.org/docs/current/protocol-message-formats.html#PROTOCOL-MESSAGE-FORMATS-AUTHENTICATIONMD5PASSWORD
 * User and password are hashed as UTF-8, as libpq and the Redshift drivers do.
 */
import { createHash } from 'node:crypto';
import { cstring, message } from '../../protocol/builder.js';
import { FrontendCode } from '../../protocol/codes.js';
import { BodyReader } from './body-reader.js';
import type { PasswordSecret } from './login-secret.js';

const SALT_LENGTH = 4;

const md5hex = (...parts: Buffer[]): string => {
  const hash = createHash('md5');
  for (const part of parts) hash.update(part);
  return hash.digest('hex');
};

export function md5Response(secret: PasswordSecret, body: Buffer): Buffer {
  const salt = new BodyReader(body, 'MD5 password').fixed(SALT_LENGTH);
  const inner = md5hex(Buffer.from(secret.password + secret.user, 'utf8'));
  const outer = md5hex(Buffer.from(inner, 'ascii'), salt);
  return message(FrontendCode.Password, [cstring(`md5${outer}`)]);
}
