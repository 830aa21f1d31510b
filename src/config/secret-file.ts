/**
 * Files that hold secrets — the client password, the listener's TLS private key, the HTTP bearer token — are read
 * only when nobody but their owner can read them, as PostgreSQL refuses a server key with group or world access
 * (be-secure-common.c: 0600 or less, or 0640 when the file belongs to root, so that a group such as ssl-cert can
 * hold it). A readable secret is not a warning to scroll past: the proxy does not start, and says how to fix it.
 */
import { readFileSync, statSync } from 'node:fs';

export class SecretFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SecretFileError';
  }
}

/** Throws SecretFileError when `file` is readable by group or others (see above); Windows has no such bits. */
export function checkSecretFileMode(file: string, what: string): void {
  if (process.platform === 'win32') return;
  const st = statSync(file);
  const mode = st.mode & 0o777;
  const allowed = st.uid === 0 ? 0o640 : 0o600;
  if ((mode & ~allowed) !== 0) {
    throw new SecretFileError(`${what} ${file} is readable by ${mode & 0o004 ? 'every user' : 'its group'} (mode 0${mode.toString(8)}): `
      + `it must be 0600 or less${st.uid === 0 ? ' (0640 when owned by root)' : ''}. Fix with: chmod 600 ${file}`);
  }
}

/** The file's content once its mode is checked. */
export function readSecretFile(file: string, what: string): string {
  checkSecretFileMode(file, what);
  return readFileSync(file, 'utf8');
}

/** The first line of a secret file (a password or a token), without its line ending. */
export function readSecretLine(file: string, what: string): string {
  return readSecretFile(file, what).split(/\r?\n/)[0] ?? '';
}
