/**
 * A temporary database credential as the API returned it. The password is kept in a private field so that
 * logging, JSON serialisation and util.inspect of a credential never show it.
 */
import { inspect } from 'node:util';

export class DbCredential {
  readonly #password: string;

  constructor(
    /** The DbUser the API returned, verbatim, with its IAM:/IAMA:/IAMR: prefix: the login user. */
    readonly user: string,
    password: string,
    /** The expiration the API returned (never the requested duration). */
    readonly expiresAt: Date,
    /** When the proxy received it, to size the refresh margin from the real lifetime. */
    readonly obtainedAt: Date = new Date(),
  ) {
    this.#password = password;
  }

  get password(): string {
    return this.#password;
  }

  toJSON(): Record<string, string> {
    return { user: this.user, password: '[redacted]', expiresAt: this.expiresAt.toISOString() };
  }

  [inspect.custom](): string {
    return `DbCredential { user: ${JSON.stringify(this.user)}, password: [redacted], expiresAt: ${this.expiresAt.toISOString()} }`;
  }
}
