/**
 * The server side of md5 password authentication, checked against what the control-plane emulator issued: the
 * right answer for this salt, from a password that has not passed its VALID UNTIL.
 * https://www.postgresql.org/docs/current/auth-password.html (md5) and
 * https://www.postgresql.org/docs/current/protocol-flow.html#PROTOCOL-FLOW-START-UP (AuthenticationMD5Password)
 */
import { createHash, timingSafeEqual } from 'node:crypto';

/** What the emulator issued to one database user: MemoryDataPlane's roles fit this shape. */
export interface IssuedPassword {
  readonly password: string;
  readonly validUntil: Date;
}

/** "md5" + md5hex(md5hex(password + user) + salt): what a client sends for AuthenticationMD5Password. */
export function md5Answer(password: string, user: string, salt: Buffer): string {
  const inner = createHash('md5').update(password + user, 'utf8').digest('hex');
  return `md5${createHash('md5').update(inner, 'ascii').update(salt).digest('hex')}`;
}

/**
 * Accepted, or the reason it is not. Like PostgreSQL, the server tells the client only "password authentication
 * failed" whatever the reason; the reason is for the server's own log.
 */
export type PasswordVerdict = { readonly ok: true; readonly validUntil: Date } | { readonly ok: false; readonly reason: string };

export function checkMd5Password(user: string, answer: Buffer, salt: Buffer, issued: IssuedPassword | undefined,
  now: Date = new Date()): PasswordVerdict {
  if (!issued || issued.password === '') return { ok: false, reason: 'no credential was issued to this user' };
  const expected = Buffer.from(md5Answer(issued.password, user, salt), 'ascii');
  if (expected.length !== answer.length || !timingSafeEqual(expected, answer)) return { ok: false, reason: 'wrong password' };
  if (now >= issued.validUntil) return { ok: false, reason: `password expired at ${issued.validUntil.toISOString()}` };
  return { ok: true, validUntil: issued.validUntil };
}
