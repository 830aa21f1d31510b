/**
 * `creds`: prints a temporary credential for a tool that can take a password (and does not need the proxy in
 * between): a postgresql:// URL, PG* environment lines, or JSON. This is the one place the proxy shows a
 * password, on purpose: to standard output only, never to the log. The connection it describes goes straight to
 * Redshift with verified TLS (sslmode=verify-full).
 */
import { DbCredential } from '../credentials/db-credential.js';
import type { Config } from '../config/config.js';
import { probeTarget } from './probe-target.js';
import type { ProbeOptions } from './probe-target.js';

export const CREDS_FORMATS = ['url', 'env', 'json'] as const;
export type CredsFormat = (typeof CREDS_FORMATS)[number];

export interface CredsOptions extends ProbeOptions {
  readonly format: CredsFormat;
}

export interface IssuedConnection {
  readonly host: string;
  readonly port: number;
  readonly database: string;
  readonly user: string;
  readonly password: string;
  readonly expiresAt: string;
  readonly sslmode: 'verify-full';
  /** A CA file (--ca-file), or "system": the OS trust store (libpq 16+), which holds Redshift's CA. */
  readonly sslrootcert: string;
}

/** Quotes a value for a POSIX shell only when it needs it. */
function shellValue(v: string): string {
  return /^[A-Za-z0-9_./:@%+=,-]*$/.test(v) ? v : `'${v.replace(/'/g, `'\\''`)}'`;
}

export function formatConnection(c: IssuedConnection, format: CredsFormat): string {
  switch (format) {
    case 'json':
      return JSON.stringify({ ...c, url: formatConnection(c, 'url') }, null, 2);
    case 'env':
      return [['PGHOST', c.host], ['PGPORT', String(c.port)], ['PGDATABASE', c.database], ['PGUSER', c.user],
        ['PGPASSWORD', c.password], ['PGSSLMODE', c.sslmode], ['PGSSLROOTCERT', c.sslrootcert]]
        .map(([k, v]) => `${k}=${shellValue(v ?? '')}`).join('\n');
    case 'url': {
      const e = encodeURIComponent;
      const host = c.host.includes(':') ? `[${c.host}]` : c.host;
      return `postgresql://${e(c.user)}:${e(c.password)}@${host}:${c.port}/${e(c.database)}?sslmode=${c.sslmode}&sslrootcert=${e(c.sslrootcert)}`;
    }
    default:
      throw new Error(`unknown format ${String(format satisfies never)}`);
  }
}

export async function runCreds(config: Config, options: CredsOptions,
  out: (text: string) => void = (t) => process.stdout.write(`${t}\n`),
  err: (text: string) => void = (t) => process.stderr.write(`${t}\n`)): Promise<number> {
  let probe;
  try {
    probe = probeTarget(config, options);
  } catch (e) {
    err(`redshift-auth-proxy: ${e instanceof Error ? e.message : String(e)}`);
    return 1;
  }
  if (probe.target.idc) {
    // The token is the person's own Identity Center sign-in: it is handed to Redshift, never printed.
    err('redshift-auth-proxy: creds prints temporary database passwords, and an IAM Identity Center listener has none: '
      + 'its logins use your Identity Center token, which the proxy never prints.\n  fix: connect through the proxy instead (no password needed).');
    probe.close();
    return 1;
  }
  try {
    probe.target.checkUser(probe.user);
    const database = probe.target.databaseFor(options.database);
    const signal = AbortSignal.timeout(config.startupTimeoutMs + config.connectTimeoutMs);
    const resolved = await probe.target.resolve(probe.target.requestFor(probe.user, database), signal);
    const endpoint = await probe.target.endpoint();
    const c = resolved.credential;
    if (!(c instanceof DbCredential)) throw new Error('not a database credential');
    out(formatConnection({ host: endpoint.host, port: endpoint.port, database, user: c.user, password: c.password,
      expiresAt: c.expiresAt.toISOString(), sslmode: 'verify-full', sslrootcert: probe.listener.target.caFile ?? 'system' }, options.format));
    const minutes = Math.round((c.expiresAt.getTime() - Date.now()) / 60_000);
    err(`# valid until ${c.expiresAt.toISOString()} (${minutes} min); sslrootcert=system needs libpq 16 or later`);
    return 0;
  } catch (e) {
    const { hint } = (e ?? {}) as { hint?: unknown };
    err(`redshift-auth-proxy: ${e instanceof Error ? e.message : String(e)}${typeof hint === 'string' ? `\n  fix: ${hint}` : ''}`);
    return 1;
  } finally {
    probe.close();
  }
}
