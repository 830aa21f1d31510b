/**
 * When a cached credential is still good and when to refresh it, from its returned lifetime.
 */
import type { DbCredential } from './db-credential.js';

function lifetimeMs(cred: DbCredential): number {
  return Math.max(0, cred.expiresAt.getTime() - cred.obtainedAt.getTime());
}

/** Reuse until this instant: a tenth of the lifetime before expiry, at most one minute. */
export function freshUntil(cred: DbCredential): number {
  return cred.expiresAt.getTime() - Math.min(60_000, lifetimeMs(cred) / 10);
}

/** Start a background refresh from this instant: three quarters into the lifetime, at most five minutes early. */
export function refreshAt(cred: DbCredential): number {
  const lead = Math.min(5 * 60_000, lifetimeMs(cred) / 4);
  return Math.min(freshUntil(cred), cred.expiresAt.getTime() - lead);
}
