/**
 * PKCE (RFC 7636) and the OAuth state: a 32-byte verifier (43 base64url characters, within §4.1's 43–128), its
 * S256 challenge, and an unguessable state that ties the callback to this sign-in (RFC 6749 §10.12).
 */
import { createHash, randomBytes } from 'node:crypto';

export interface Pkce {
  readonly verifier: string;
  readonly challenge: string;
  readonly state: string;
}

export function newPkce(): Pkce {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url'), state: randomBytes(16).toString('base64url') };
}
