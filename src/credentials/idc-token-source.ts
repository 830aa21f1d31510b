/**
 * The narrow edge to wherever IAM Identity Center tokens come from for an IdC listener: the sign-in (one shared
 * sign-in for every waiting client) or --idc-token-command. The target is its only caller.
 */
import type { CredentialRequest } from './credential-source.js';
import type { IdcToken } from './idc-token.js';
import { IdcTokenCommand } from './idc-token-command.js';

export interface IdcTokenSource {
  /** A short name for logs and errors: "IAM Identity Center sign-in", "--idc-token-command". */
  readonly action: string;
  /** Requests that share one token: all of them (the person is the database user, whatever the client sends). */
  keyFor(request: CredentialRequest): string;
  /** A token believed current; concurrent callers share one fetch. Fails with a ClientError saying what to do. */
  token(signal?: AbortSignal): Promise<IdcToken>;
  /** Redshift refused this token (expired, revoked, wrong audience, user not assigned): never hand it out again. */
  refused(token: IdcToken): void;
  /** What the person should do when Redshift refuses a token from this source (a ClientError hint). */
  readonly refusalHint: string;
  /** Stops timers and child processes. */
  close(): void;
}

/** The token source of an IdC listener's settings (validate-config.ts has checked them). */
export function idcTokenSourceFor(settings: { readonly idcTokenCommand?: string | undefined }): IdcTokenSource {
  if (settings.idcTokenCommand !== undefined) return new IdcTokenCommand({ command: settings.idcTokenCommand });
  throw new Error('IAM Identity Center sign-in is not available in this build yet: give --idc-token-command');
}
