/**
 * An IAM Identity Center access token, as the proxy holds it for Redshift's own IdC login (AUTH_REQ_IDP, code 14).
 * The value sits in a private field so that logging, JSON serialisation and util.inspect of a token never show it,
 * as DbCredential does for passwords.
 */
import { inspect } from 'node:util';

export class IdcToken {
  readonly #value: string;

  constructor(
    value: string,
    /** When the token stops being worth sending (the issuer's expiry, or an assumed lifetime; see the source). */
    readonly expiresAt: Date,
    /** Where it came from, for messages: "the sign-in" or "--idc-token-command". */
    readonly from: string,
    /**
     * Who the database user will be, as far as the proxy can tell before Redshift says (logs, status, `check`):
     * the signed-in person when the sign-in knows the name, else a description.
     */
    readonly user: string = 'IAM Identity Center user',
    readonly obtainedAt: Date = new Date(),
  ) {
    this.#value = value;
  }

  /** The token itself: only the upstream login reads it, to write the 'i' message. */
  get value(): string {
    return this.#value;
  }

  toJSON(): Record<string, string> {
    return { user: this.user, token: '[redacted]', from: this.from, expiresAt: this.expiresAt.toISOString() };
  }

  [inspect.custom](): string {
    return `IdcToken { user: ${JSON.stringify(this.user)}, token: [redacted], from: ${this.from}, expiresAt: ${this.expiresAt.toISOString()} }`;
  }
}
