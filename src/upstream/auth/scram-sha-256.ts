/**
 * SCRAM-SHA-256 (RFC 5802, RFC 7677) without channel binding, as PostgreSQL frames it in SASL messages:
 * https://www.postgresql.org/docs/current/sasl-authentication.html#SASL-SCRAM-SHA-256
 * AuthenticationSASL (10) → SASLInitialResponse; AuthenticationSASLContinue (11) → SASLResponse;
 * AuthenticationSASLFinal (12) → nothing, but the server's signature must verify: a server that cannot prove it
 * knows the password does not get our session.
 * https://www.postgresql.org/docs/current/protocol-message-formats.html#PROTOCOL-MESSAGE-FORMATS-SASLINITIALRESPONSE
 *
 * SASLprep: we hash the raw UTF-8 password. PostgreSQL uses the raw password whenever SASLprep fails, and SASLprep
 * leaves printable ASCII unchanged, so this matches the server for the ASCII passwords Redshift issues (and for any
 * password already in SASLprep form). The user name in client-first is ignored by PostgreSQL (it uses the startup
 * user) but is sent, escaped, as the RFC and the Redshift python driver do.
 */
import { createHash, createHmac, pbkdf2Sync, timingSafeEqual } from 'node:crypto';
import { bytes, cstring, int32, message } from '../../protocol/builder.js';
import { FrontendCode } from '../../protocol/codes.js';
import { UpstreamAuthError } from './auth-error.js';
import type { PasswordSecret } from './login-secret.js';

const MECHANISM = 'SCRAM-SHA-256';
const MECHANISM_PLUS = 'SCRAM-SHA-256-PLUS';
/** gs2 header "n,,": this client does not do channel binding; its base64 is the c= of client-final ("biws"). */
const GS2_HEADER = 'n,,';
/** pbkdf2Sync blocks the event loop; PostgreSQL's default is 4096. Refuse a server asking for absurd work. */
const MAX_ITERATIONS = 1_000_000;

const fail = (why: string): UpstreamAuthError => new UpstreamAuthError(`SCRAM-SHA-256 login to Redshift failed: ${why}`);
const hmac = (key: Buffer, text: string): Buffer => createHmac('sha256', key).update(text, 'utf8').digest();
/** RFC 5802 §5.1 saslname: ',' and '=' are escaped. */
const saslName = (user: string): string => user.replace(/=/g, '=3D').replace(/,/g, '=2C');

/** Splits "k=v,k=v" into attributes, keeping '=' inside values (base64 padding). */
function attributes(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of text.split(',')) {
    if (part.length < 2 || part[1] !== '=') throw fail('the server sent a malformed SCRAM message');
    out.set(part[0] as string, part.slice(2));
  }
  return out;
}

type Step = 'initial' | 'sent-first' | 'sent-final' | 'verified';

export class ScramSha256Client {
  private step: Step = 'initial';
  private clientFirstBare = '';
  private expectedServerSignature: Buffer | undefined;

  constructor(private readonly secret: PasswordSecret, private readonly clientNonce: string) {
    if (clientNonce.length === 0 || clientNonce.includes(',')) throw fail('invalid client nonce');
  }

  /** True once the server's final message proved it knows the password. */
  get verified(): boolean {
    return this.step === 'verified';
  }

  /** AuthenticationSASL: body is a list of mechanism names, each a C string, ended by an empty one. */
  start(body: Buffer): Buffer {
    this.expect('initial');
    const offered = body.toString('utf8').split('\0').filter((name) => name.length > 0);
    if (!offered.includes(MECHANISM)) {
      throw fail(offered.includes(MECHANISM_PLUS)
        ? 'Redshift requires SCRAM with channel binding (SCRAM-SHA-256-PLUS), which the proxy does not support'
        : `Redshift offered SASL mechanisms [${offered.join(', ')}], none of which the proxy supports`);
    }
    this.clientFirstBare = `n=${saslName(this.secret.user)},r=${this.clientNonce}`;
    const initial = Buffer.from(GS2_HEADER + this.clientFirstBare, 'utf8');
    this.step = 'sent-first';
    return message(FrontendCode.Password, [cstring(MECHANISM), int32(initial.length), bytes(initial)]);
  }

  /** AuthenticationSASLContinue: body is server-first-message "r=…,s=…,i=…". Answer with client-final. */
  continue(body: Buffer): Buffer {
    this.expect('sent-first');
    const serverFirst = body.toString('utf8');
    const attrs = attributes(serverFirst);
    if (attrs.has('m')) throw fail('the server requires a SCRAM extension the proxy does not know');
    const nonce = attrs.get('r');
    const saltText = attrs.get('s');
    const iterationsText = attrs.get('i');
    if (nonce === undefined || saltText === undefined || iterationsText === undefined) {
      throw fail('the server sent an incomplete SCRAM challenge');
    }
    // The combined nonce must extend ours, or the exchange is being replayed or spliced.
    if (!nonce.startsWith(this.clientNonce) || nonce.length === this.clientNonce.length) {
      throw fail('the server nonce does not extend the client nonce');
    }
    const salt = Buffer.from(saltText, 'base64');
    const iterations = /^[1-9][0-9]{0,9}$/.test(iterationsText) ? Number(iterationsText) : NaN;
    if (salt.length === 0) throw fail('the server sent an empty salt');
    if (!(iterations <= MAX_ITERATIONS)) throw fail(`the server asked for an unsupported iteration count (${iterationsText})`);

    const saltedPassword = pbkdf2Sync(Buffer.from(this.secret.password, 'utf8'), salt, iterations, 32, 'sha256');
    const clientKey = hmac(saltedPassword, 'Client Key');
    const storedKey = createHash('sha256').update(clientKey).digest();
    const withoutProof = `c=${Buffer.from(GS2_HEADER).toString('base64')},r=${nonce}`;
    const authMessage = `${this.clientFirstBare},${serverFirst},${withoutProof}`;
    const clientSignature = hmac(storedKey, authMessage);
    const proof = Buffer.alloc(clientKey.length);
    for (let i = 0; i < proof.length; i++) proof[i] = (clientKey[i] ?? 0) ^ (clientSignature[i] ?? 0);
    this.expectedServerSignature = hmac(hmac(saltedPassword, 'Server Key'), authMessage);
    this.step = 'sent-final';
    return message(FrontendCode.Password, [bytes(Buffer.from(`${withoutProof},p=${proof.toString('base64')}`, 'utf8'))]);
  }

  /** AuthenticationSASLFinal: body is server-final-message "v=…" (or "e=…"). Nothing is sent back. */
  finish(body: Buffer): null {
    this.expect('sent-final');
    const attrs = attributes(body.toString('utf8'));
    const error = attrs.get('e');
    if (error !== undefined) throw fail(`the server reported "${error}"`);
    const signature = Buffer.from(attrs.get('v') ?? '', 'base64');
    const expected = this.expectedServerSignature;
    if (!expected || signature.length !== expected.length || !timingSafeEqual(signature, expected)) {
      throw fail('the server could not prove it knows the password (server signature mismatch)');
    }
    this.step = 'verified';
    return null;
  }

  private expect(step: Step): void {
    if (this.step !== step) throw fail('the server sent SASL messages out of order');
  }
}
