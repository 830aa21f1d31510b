/**
 * The AWS CLI's SSO token cache, ~/.aws/sso/cache, read and written exactly as the CLI v2 and the SDK do, so one
 * sign-in serves them all:
 * - the token of an `sso-session` is `<sha1(session name)>.json`; of a legacy profile, `<sha1(start URL)>.json`
 *   (the SDK's getSSOTokenFilepath); fields `startUrl`, `region`, `accessToken`, `expiresAt` (ISO 8601 UTC,
 *   `YYYY-MM-DDTHH:MM:SSZ`), and for refresh `clientId`, `clientSecret`, `registrationExpiresAt`, `refreshToken`
 *   (what the SDK's fromSso reads to refresh, and writes back after);
 * - the client registration is `<sha1(JSON of {region, scopes, session_name, startUrl, tool: "botocore"}, keys
 *   sorted, Python's separators)>.json` with `clientId`, `clientSecret`, `expiresAt`, `scopes` (and `grantTypes`).
 * Files are written 0600 in a 0700 directory, through a temporary file and a rename: a reader never sees half a token.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import path from 'node:path';
import type { SignInTarget } from './sign-in-types.js';
import { PORTAL_SCOPE } from './sso-config.js';

export interface CachedToken {
  readonly startUrl: string;
  readonly region: string;
  readonly accessToken: string;
  readonly expiresAt: string;
  readonly clientId?: string | undefined;
  readonly clientSecret?: string | undefined;
  readonly registrationExpiresAt?: string | undefined;
  readonly refreshToken?: string | undefined;
}

export interface CachedRegistration {
  readonly clientId: string;
  readonly clientSecret: string;
  readonly expiresAt: string;
  readonly scopes?: readonly string[] | undefined;
  readonly grantTypes?: readonly string[] | undefined;
}

export function cacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return path.join(env.HOME ?? homedir(), '.aws', 'sso', 'cache');
}

const sha1 = (s: string): string => createHash('sha1').update(s).digest('hex');

/**
 * What the token file is named after: the session name (sso-session profiles), else the start URL (legacy
 * profiles), as the CLI and SDK name it. A target with scopes beyond the portal's and no session (an IdC
 * application's `redshift:connect`) is not something the CLI ever caches; its name adds the scopes so that it never
 * overwrites the portal sign-in of the same start URL.
 */
export function tokenCacheKey(t: SignInTarget): string {
  if (t.sessionName !== undefined) return t.sessionName;
  const portalOnly = t.scopes.length === 0 || (t.scopes.length === 1 && t.scopes[0] === PORTAL_SCOPE);
  return portalOnly ? t.startUrl : `${t.startUrl}#${[...t.scopes].sort().join(',')}`;
}

export function tokenPath(t: SignInTarget, env: NodeJS.ProcessEnv = process.env): string {
  return path.join(cacheDir(env), `${sha1(tokenCacheKey(t))}.json`);
}

/** The CLI v2's registration key: json.dumps(args, sort_keys=True) — keys sorted, `", "` and `": "` separators. */
export function registrationPath(t: SignInTarget, env: NodeJS.ProcessEnv = process.env): string {
  const args: Array<[string, unknown]> = [['region', t.region], ['scopes', t.scopes.length > 0 ? t.scopes : null],
    ['session_name', t.sessionName ?? null], ['startUrl', t.startUrl], ['tool', 'botocore']];
  const json = `{${args.map(([k, v]) => `${pyJson(k)}: ${pyJson(v)}`).join(', ')}}`;
  return path.join(cacheDir(env), `${sha1(json)}.json`);
}

/** Python's json.dumps for strings, null and string lists (ensure_ascii: non-ASCII as \\uXXXX). */
function pyJson(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return `[${v.map(pyJson).join(', ')}]`;
  return JSON.stringify(String(v)).replace(/[\u0080-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

export async function readToken(t: SignInTarget, env?: NodeJS.ProcessEnv): Promise<CachedToken | undefined> {
  const data = await readJson(tokenPath(t, env));
  if (!data || typeof data.accessToken !== 'string' || typeof data.expiresAt !== 'string') return undefined;
  return data as unknown as CachedToken;
}

export async function readRegistration(t: SignInTarget, env?: NodeJS.ProcessEnv): Promise<CachedRegistration | undefined> {
  const data = await readJson(registrationPath(t, env));
  if (!data || typeof data.clientId !== 'string' || typeof data.clientSecret !== 'string' || typeof data.expiresAt !== 'string') return undefined;
  return data as unknown as CachedRegistration;
}

export const writeToken = (t: SignInTarget, token: CachedToken, env?: NodeJS.ProcessEnv): Promise<void> =>
  writePrivate(tokenPath(t, env), token);

export const writeRegistration = (t: SignInTarget, r: CachedRegistration, env?: NodeJS.ProcessEnv): Promise<void> =>
  writePrivate(registrationPath(t, env), r);

/** Removes the token file (logout); the registration stays, as the CLI leaves it. True when there was one. */
export async function removeToken(t: SignInTarget, env?: NodeJS.ProcessEnv): Promise<boolean> {
  try {
    await unlink(tokenPath(t, env));
    return true;
  } catch {
    return false;
  }
}

/** `2026-01-01T00:00:00Z`: the CLI's format (no milliseconds), which the SDK and botocore both parse. */
export function cacheTimestamp(d: Date): string {
  return `${d.toISOString().slice(0, 19)}Z`;
}

async function readJson(file: string): Promise<Record<string, unknown> | undefined> {
  try {
    const parsed: unknown = JSON.parse(await readFile(file, 'utf8'));
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? parsed as Record<string, unknown> : undefined;
  } catch {
    return undefined;
  }
}

async function writePrivate(file: string, value: object): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.${randomBytes(6).toString('hex')}.tmp`;
  await writeFile(tmp, JSON.stringify(value), { mode: 0o600 });
  await rename(tmp, file);
}
