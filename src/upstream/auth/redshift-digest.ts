/**
 * Redshift's own salted SHA-256 digest login (AUTH_REQ_DIGEST, code 13). Not part of PostgreSQL, so not in its
 * protocol chapter; the format below was confirmed by reading both AWS drivers, which agree byte for byte:
 *  - aws/amazon-redshift-python-driver, redshift_connector/core.py `Connection.handle_AUTHENTICATION_REQUEST`
 *    (branch `auth_code == 13`) and redshift_connector/utils/extensible_digest.py `ExtensibleDigest.encode`;
 *  - aws/amazon-redshift-jdbc-driver, src/main/java/com/amazon/redshift/core/v3/ConnectionFactoryImpl.java
 *    `doAuthentication` (case AUTH_REQ_DIGEST) and src/main/java/com/amazon/redshift/util/ExtensibleDigest.java.
 *
 * Request body after the code:  Int32 algorithm (0 = SHA-256, the only one either driver knows),
 *                                Int32 n + Byte[n] salt,  Int32 m + Byte[m] server nonce.
 * Response (type 'd', NOT 'p'):  'd', Int32 length (counts itself), Int32 32 + Byte[32] digest,
 *                                Int32 k + Byte[k] client nonce.
 * digest = SHA256( SHA256(password ‖ salt) ‖ serverNonce ‖ clientNonce ), raw bytes (not hex); the password is
 * UTF-8 and the user name is NOT hashed (both drivers' doc comments say "password + user"; their code does not).
 * The client nonce is the current time in milliseconds since the epoch as ASCII decimal digits, as both drivers
 * send it; we keep that form in case the server checks it for freshness.
 */
import { createHash } from 'node:crypto';
import { bytes, int32, message } from '../../protocol/builder.js';
import { FrontendCode } from '../../protocol/codes.js';
import { UpstreamAuthError } from './auth-error.js';
import { BodyReader } from './body-reader.js';
import type { PasswordSecret } from './login-secret.js';


/** Algorithm numbers of the request. Both drivers also name 1 = scrypt, 2 = argon2 but implement neither. */
const DigestAlgorithm = { Sha256: 0 } as const;

const sha256 = (...parts: Buffer[]): Buffer => {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(part);
  return hash.digest();
};

export function redshiftDigestResponse(secret: PasswordSecret, body: Buffer, nowMs: number): Buffer {
  const reader = new BodyReader(body, 'password digest');
  const algorithm = reader.int32();
  const salt = reader.sized();
  const serverNonce = reader.sized();
  // The drivers test `algo > names.length`, which lets 1 through to an out-of-range lookup; we accept exactly 0.
  if (algorithm !== DigestAlgorithm.Sha256) {
    throw new UpstreamAuthError(
      `Redshift asked for password digest algorithm ${algorithm}, which the proxy does not support (only SHA-256)`);
  }
  const clientNonce = Buffer.from(String(Math.floor(nowMs)), 'ascii');
  const digest = sha256(sha256(Buffer.from(secret.password, 'utf8'), salt), serverNonce, clientNonce);
  return message(FrontendCode.RedshiftDigestResponse, [int32(digest.length), bytes(digest), int32(clientNonce.length), bytes(clientNonce)]);
}
