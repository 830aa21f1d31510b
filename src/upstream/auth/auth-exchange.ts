/**
 * The client side of upstream authentication: the login code hands each AuthenticationXXX request (code != 0) to
 * one `AuthExchange`, which answers with the frontend message to send, null for nothing, or an UpstreamAuthError.
 * One file per method; this file only dispatches on the code.
 * https://www.postgresql.org/docs/current/protocol-flow.html#PROTOCOL-FLOW-START-UP
 * https://www.postgresql.org/docs/current/protocol-message-formats.html (Authentication* messages)
 */
import { randomBytes } from 'node:crypto';
import { AuthCode } from '../../protocol/codes.js';
import { UpstreamAuthError } from './auth-error.js';
import { cleartextResponse } from './cleartext.js';
import { idpTokenResponse } from './idp-token.js';
import { md5Response } from './md5.js';
import { redshiftDigestResponse } from './redshift-digest.js';
import { ScramSha256Client } from './scram-sha-256.js';

export { UpstreamAuthError } from './auth-error.js';
import type { LoginSecret, PasswordSecret, TokenSecret } from './login-secret.js';

export type { LoginSecret, PasswordSecret, TokenSecret } from './login-secret.js';

export interface AuthExchange {
  /** Answer one AuthenticationXXX request (code != 0); `body` is the message body after the int32 code. */
  respond(code: number, body: Buffer): Buffer | null;
  /**
   * Call when AuthenticationOk arrives: throws if a SCRAM exchange was started but the server skipped the
   * AuthenticationSASLFinal that proves it knows the password (a server must not get our session without it).
   */
  assertComplete(): void;
}

/** Seams for tests; production uses the defaults. */
export interface AuthExchangeOptions {
  /** SCRAM client nonce (printable, no ','). Default: 18 random bytes in base64, as libpq does. */
  readonly scramNonce?: () => string;
  /** Milliseconds since the epoch, for the Redshift digest's client nonce. Default: Date.now. */
  readonly now?: () => number;
}

/** Methods PostgreSQL or Redshift may ask for that the proxy deliberately does not implement. */
const UNSUPPORTED: Readonly<Record<number, string>> = {
  2: 'Kerberos V5',
  4: 'crypt',
  6: 'SCM credentials',
  7: 'GSSAPI',
  8: 'GSSAPI (continue)',
  9: 'SSPI',
};

function unsupported(code: number): UpstreamAuthError {
  const name = UNSUPPORTED[code];
  const method = name === undefined ? `with code ${code}` : `${name} (code ${code})`;
  return new UpstreamAuthError(`Redshift asked for authentication method ${method}, which the proxy does not support; `
    + 'it logs in with temporary IAM database credentials (password, MD5, SCRAM-SHA-256 or Redshift SHA-256 digest) '
    + 'or an IAM Identity Center token (code 14)');
}

/** The listener logs in with a password, and Redshift asked for an identity-provider token instead. */
function tokenWanted(): UpstreamAuthError {
  return new UpstreamAuthError('Redshift asked for an identity-provider token (code 14, IAM Identity Center), but this listener '
    + 'logs in with temporary IAM database credentials; start it with --idc-issuer-url and --idc-region (or --idc-token-command) '
    + 'to log in with Identity Center');
}

/** The listener logs in with an Identity Center token, and Redshift asked for a password instead. */
function passwordWanted(code: number): UpstreamAuthError {
  return new UpstreamAuthError(`Redshift asked for a password (authentication code ${code}) instead of an IAM Identity Center `
    + 'token: this endpoint does not take Identity Center logins here (is Identity Center enabled for the cluster or '
    + 'workgroup, and does --upstream name it?); the token was not sent');
}

const isToken = (secret: LoginSecret): secret is TokenSecret => 'token' in secret;

const PASSWORD_CODES: ReadonlySet<number> = new Set([AuthCode.CleartextPassword, AuthCode.MD5Password, AuthCode.SASL,
  AuthCode.SASLContinue, AuthCode.SASLFinal, AuthCode.RedshiftDigest]);

export function createAuthExchange(secret: LoginSecret, options: AuthExchangeOptions = {}): AuthExchange {
  if (isToken(secret)) {
    // One answer, to one question: a token is never sent twice in a login, nor in answer to anything else.
    let sent = false;
    return {
      respond(code: number): Buffer | null {
        if (code === AuthCode.IdpToken) {
          if (sent) throw new UpstreamAuthError('Redshift asked for the Identity Center token twice during one login');
          sent = true;
          return idpTokenResponse(secret.token());
        }
        throw PASSWORD_CODES.has(code) ? passwordWanted(code) : unsupported(code);
      },
      assertComplete(): void {},
    };
  }
  return passwordExchange(secret, options);
}

function passwordExchange(secret: PasswordSecret, options: AuthExchangeOptions): AuthExchange {
  const scramNonce = options.scramNonce ?? ((): string => randomBytes(18).toString('base64'));
  const now = options.now ?? Date.now;
  let scram: ScramSha256Client | undefined;

  const inSasl = (code: number): ScramSha256Client => {
    if (!scram) throw new UpstreamAuthError(`Redshift sent SASL step ${code} before starting a SASL exchange`);
    return scram;
  };

  return {
    respond(code: number, body: Buffer): Buffer | null {
      // Once SCRAM has begun, only its own continuation may follow: no silent switch to a weaker method.
      if (scram && !scram.verified && code !== AuthCode.SASLContinue && code !== AuthCode.SASLFinal) {
        throw new UpstreamAuthError(`Redshift switched to authentication method ${code} in the middle of a SCRAM exchange`);
      }
      switch (code) {
        case AuthCode.CleartextPassword: return cleartextResponse(secret);
        case AuthCode.MD5Password: return md5Response(secret, body);
        case AuthCode.SASL:
          if (scram) throw new UpstreamAuthError('Redshift started a second SASL exchange during one login');
          scram = new ScramSha256Client(secret, scramNonce());
          return scram.start(body);
        case AuthCode.SASLContinue: return inSasl(code).continue(body);
        case AuthCode.SASLFinal: return inSasl(code).finish(body);
        case AuthCode.RedshiftDigest: return redshiftDigestResponse(secret, body, now());
        case AuthCode.IdpToken: throw tokenWanted();
        default: throw unsupported(code);
      }
    },
    assertComplete(): void {
      if (scram && !scram.verified) {
        throw new UpstreamAuthError('Redshift accepted the login without proving it knows the password (SCRAM final message missing)');
      }
    },
  };
}
