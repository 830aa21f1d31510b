/**
 * The server side of SCRAM-SHA-256 (RFC 5802/7677) for clients of a listener that requires a password: the proxy
 * keeps only a salted verifier, never the password, and the password never crosses the wire.
 * https://www.postgresql.org/docs/current/sasl-authentication.html
 */
import { createHash, createHmac, pbkdf2Sync, randomBytes, timingSafeEqual } from 'node:crypto';
import { AuthCode, BackendCode } from '../protocol/codes.js';
import { bytes, cstring, int32, message } from '../protocol/builder.js';

const MECHANISM = 'SCRAM-SHA-256';
const ITERATIONS = 4096;

export interface ScramVerifier {
  readonly salt: Buffer;
  readonly iterations: number;
  readonly storedKey: Buffer;
  readonly serverKey: Buffer;
}

const hmac = (key: Buffer, text: string): Buffer => createHmac('sha256', key).update(text).digest();
const sha256 = (data: Buffer): Buffer => createHash('sha256').update(data).digest();

export function scramVerifier(password: string, salt: Buffer = randomBytes(16), iterations = ITERATIONS): ScramVerifier {
  const salted = pbkdf2Sync(Buffer.from(password, 'utf8'), salt, iterations, 32, 'sha256');
  return { salt, iterations, storedKey: sha256(hmac(salted, 'Client Key')), serverKey: hmac(salted, 'Server Key') };
}

/** AuthenticationSASL listing the one mechanism offered. */
export function saslStart(): Buffer {
  return message(BackendCode.Authentication, [int32(AuthCode.SASL), cstring(MECHANISM), cstring('')]);
}

export type ScramStep = { readonly reply: Buffer; readonly done: boolean } | { readonly error: string };

/** One client's exchange: feed it the body of each 'p' message; it answers or fails. */
export class ScramServerExchange {
  private clientFirstBare: string | undefined;
  private serverFirst: string | undefined;
  private nonce: string | undefined;

  constructor(private readonly verifier: ScramVerifier, private readonly serverNonce = randomBytes(18).toString('base64')) {}

  step(body: Buffer): ScramStep {
    return this.clientFirstBare === undefined ? this.first(body) : this.final(body);
  }

  private first(body: Buffer): ScramStep {
    const mechEnd = body.indexOf(0);
    if (mechEnd < 0 || body.toString('utf8', 0, mechEnd) !== MECHANISM) return { error: 'unsupported SASL mechanism' };
    if (body.length < mechEnd + 5) return { error: 'malformed SASLInitialResponse' };
    const len = body.readInt32BE(mechEnd + 1);
    const msg = body.toString('utf8', mechEnd + 5, mechEnd + 5 + Math.max(0, len));
    // gs2 header: "n,," (no channel binding) or "y,," (client could but thinks we cannot); "p=" is not offered.
    const m = /^([ny]),,(n=[^,]*,r=([^,]+)(?:,.*)?)$/.exec(msg);
    if (!m) return { error: 'malformed SCRAM client-first-message' };
    this.clientFirstBare = m[2] as string;
    this.nonce = (m[3] as string) + this.serverNonce;
    this.serverFirst = `r=${this.nonce},s=${this.verifier.salt.toString('base64')},i=${this.verifier.iterations}`;
    return { reply: message(BackendCode.Authentication, [int32(AuthCode.SASLContinue), bytes(Buffer.from(this.serverFirst))]), done: false };
  }

  private final(body: Buffer): ScramStep {
    const msg = body.toString('utf8');
    const m = /^(c=([^,]*),r=([^,]+)(?:,[^p][^,]*)*),p=([A-Za-z0-9+/=]+)$/.exec(msg);
    if (!m || m[3] !== this.nonce || (m[2] !== 'biws' && m[2] !== 'eSws')) return { error: 'malformed SCRAM client-final-message' };
    const authMessage = `${this.clientFirstBare},${this.serverFirst},${m[1]}`;
    const proof = Buffer.from(m[4] as string, 'base64');
    const signature = hmac(this.verifier.storedKey, authMessage);
    if (proof.length !== signature.length) return { error: 'password authentication failed' };
    const clientKey = Buffer.alloc(proof.length);
    for (let i = 0; i < proof.length; i++) clientKey[i] = (proof[i] as number) ^ (signature[i] as number);
    if (!timingSafeEqual(sha256(clientKey), this.verifier.storedKey)) return { error: 'password authentication failed' };
    const serverSignature = hmac(this.verifier.serverKey, authMessage).toString('base64');
    return { reply: message(BackendCode.Authentication, [int32(AuthCode.SASLFinal), bytes(Buffer.from(`v=${serverSignature}`))]), done: true };
  }
}
