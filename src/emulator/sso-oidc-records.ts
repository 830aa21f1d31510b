/**
 * What the emulated Identity Center OIDC service keeps (clients, pending authorizations, grants, issued tokens) and
 * the pure checks on them (loopback redirect matching, scopes, user codes, PKCE); the service itself is sso-oidc.ts.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { IssuedToken, SsoUserConfig } from './types.js';

export const CLIENT_LIFETIME_S = 90 * 86_400;
export const CODE_LIFETIME_MS = 5 * 60_000;
export const DEVICE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';

export interface Client {
  readonly id: string;
  readonly secret: string;
  readonly scopes: readonly string[];
  readonly grantTypes: readonly string[];
  readonly redirectUris: readonly string[];
  readonly expiresAt: number;
}

/** What an /authorize page was asked for, kept server-side while the person decides. */
export interface AuthorizationRequest {
  readonly id: string;
  readonly clientId: string;
  readonly redirectUri: string;
  readonly state: string;
  readonly codeChallenge: string;
  readonly scopes: readonly string[];
}

export interface Grant {
  readonly clientId: string;
  readonly user: SsoUserConfig;
  readonly scopes: readonly string[];
}

export interface CodeGrant extends Grant {
  readonly redirectUri: string;
  readonly codeChallenge: string;
  readonly expiresAt: number;
}

export interface DeviceGrant {
  readonly clientId: string;
  readonly userCode: string;
  readonly scopes: readonly string[];
  readonly expiresAt: number;
  interval: number;
  lastPoll: number;
  decision?: { readonly user: SsoUserConfig } | 'denied';
}

export interface TokenRecord extends IssuedToken {
  readonly family: string;
}

export interface TokenAnswer {
  readonly accessToken: string;
  readonly tokenType: 'Bearer';
  readonly expiresIn: number;
  readonly refreshToken?: string;
}

/** RFC 8252 §7.3: for a loopback redirect the port is whatever the app bound; everything else must be equal. */
export function redirectMatches(registered: string, actual: string): boolean {
  try {
    const r = new URL(registered);
    const a = new URL(actual);
    const loopback = r.hostname === '127.0.0.1' || r.hostname === '[::1]' || r.hostname === 'localhost';
    return r.protocol === a.protocol && r.hostname === a.hostname && r.pathname === a.pathname && (loopback || r.port === a.port);
  } catch {
    return false;
  }
}

export function splitScopes(values: readonly string[]): string[] {
  return values.flatMap((v) => v.split(/[\s,]+/)).filter((s) => s !== '');
}

/** Four letters of a user code, from an alphabet without look-alikes (no 0/O, 1/I). */
export function code4(): string {
  const alphabet = 'BCDFGHJKLMNPQRSTVWXZ';
  return [...randomBytes(4)].map((b) => alphabet[b % alphabet.length]).join('');
}

/** PKCE S256 (RFC 7636 §4.6): the verifier hashes (SHA-256, base64url without padding) to the challenge. */
export function pkceMatches(verifier: string, challenge: string): boolean {
  return createHash('sha256').update(verifier).digest('base64url') === challenge;
}
