/**
 * What an Identity Center listener's token source offers (idc-token-source.ts picks the implementation).
 */
import type { CredentialRequest } from './credential-source.js';
import type { IdcToken } from './idc-token.js';

export interface IdcTokenSource {
  /** A short name for logs and errors: "IAM Identity Center sign-in", "--idc-token-command". */
  readonly action: string;
  /** Requests that share one token: all of them (the person is the database user, whatever the client sends). */
  keyFor(request: CredentialRequest): string;
  /**
   * A token believed current; concurrent callers share one fetch. Fails with a ClientError saying what to do.
   * With `interactive: false` no sign-in is started (readiness probes): only a cached or refreshed token.
   */
  token(signal?: AbortSignal, options?: { readonly interactive?: boolean }): Promise<IdcToken>;
  /** Redshift refused this token (expired, revoked, wrong audience, user not assigned): never hand it out again. */
  refused(token: IdcToken): void;
  /** What the person should do when Redshift refuses a token from this source (a ClientError hint). */
  readonly refusalHint: string;
  /** Stops timers and child processes. */
  close(): void;
  /** True while a login waits for a person to finish a sign-in (login timers hold off meanwhile). */
  holdsLogins?(): boolean;
}
