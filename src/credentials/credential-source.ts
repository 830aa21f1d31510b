/**
 * The narrow edge to the AWS credential APIs. One implementation per API; the cache is their only caller.
 */
import type { DbCredential } from './db-credential.js';

/** What a connection asks for: the names the client sent, after the target's own settings were applied. */
export interface CredentialRequest {
  /** The database user to request (GetClusterCredentials only; identity-based sources ignore it). */
  readonly dbUser: string;
  /** The database the credential is scoped to. */
  readonly dbName: string;
}

export interface CredentialSource {
  /** A short name for logs and errors, e.g. "GetClusterCredentials". */
  readonly action: string;
  /** Everything that makes two requests share one credential: the cache key. */
  keyFor(request: CredentialRequest): string;
  /** Calls the API once (no retries: the cache owns retry policy). */
  fetch(request: CredentialRequest, signal?: AbortSignal): Promise<DbCredential>;
  /** The resource ARN(s) the call needs permission on, for error hints. */
  resourcesFor(request: CredentialRequest): readonly string[];
}
