/**
 * A throwaway certificate authority for the test bed, made with the `openssl` CLI (no shell: every argument is
 * passed as-is) so the certificates are what real operators produce, not what a JavaScript library thinks they are.
 *
 * Keys are EC P-256, signatures SHA-256, validity a few days. Each `openssl` run gets its own minimal config file
 * so the system's `openssl.cnf` (absent on some machines, customised on others) adds nothing.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmod, readFile, rm, writeFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import path from 'node:path';

/** A certificate authority: its certificate is what clients trust (`ssl.ca`, `--ca-file`). */
export interface Ca {
  readonly certPath: string;
  readonly keyPath: string;
  readonly certPem: string;
}

/** A leaf certificate signed by a `Ca`, and its private key (file mode 0600, as PostgreSQL demands). */
export interface IssuedCert {
  readonly certPath: string;
  readonly keyPath: string;
  readonly certPem: string;
  readonly keyPem: string;
}

/** The names a leaf certificate is valid for (its subjectAltName); at least one is required. */
export interface SubjectAltNames {
  readonly dns: readonly string[];
  readonly ips: readonly string[];
  /** What the certificate is for: a server (default) or a client presenting it to a TLS server. */
  readonly usage?: 'serverAuth' | 'clientAuth';
}

/** Long enough for any test run, short enough that a leaked key is worthless. */
const VALIDITY_DAYS = '3';

const KEY_ARGS = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'] as const;

/** Creates `ca.pem` and `ca.key` in `dir` (which must exist). */
export async function createCa(dir: string, commonName = 'redshift-auth-proxy test CA'): Promise<Ca> {
  const certPath = path.join(dir, 'ca.pem');
  const keyPath = path.join(dir, 'ca.key');
  const configPath = path.join(dir, 'ca.cnf');
  // pathlen:0 — this CA signs leaves only, like a real private CA's issuing certificate.
  await writeFile(configPath, [
    '[req]', 'distinguished_name = dn', 'prompt = no', 'x509_extensions = ca_ext',
    '[dn]', `CN = ${configValue(commonName)}`,
    '[ca_ext]',
    'basicConstraints = critical, CA:TRUE, pathlen:0',
    'keyUsage = critical, keyCertSign, cRLSign',
    'subjectKeyIdentifier = hash',
    '',
  ].join('\n'));
  try {
    await openssl(['req', '-x509', ...KEY_ARGS, '-keyout', keyPath, '-out', certPath, '-config', configPath,
      '-days', VALIDITY_DAYS, '-sha256', '-set_serial', randomSerial()]);
  } finally {
    await rm(configPath, { force: true });
  }
  await chmod(keyPath, 0o600);
  return { certPath, keyPath, certPem: await readFile(certPath, 'utf8') };
}

/**
 * Issues `<name>.pem` and `<name>.key` in `dir`, signed by `ca`, for the given host names and addresses. Node's
 * `checkServerIdentity` matches host names against DNS entries and IP literals against IP entries only, so a
 * certificate for `localhost` and `127.0.0.1` does not cover `127.0.0.2` — which is what tests of host-name
 * verification rely on.
 */
export async function issueCert(ca: Ca, dir: string, name: string, sans: SubjectAltNames): Promise<IssuedCert> {
  if (!/^[A-Za-z0-9._-]+$/.test(name)) throw new Error(`certificate file name ${JSON.stringify(name)} must be [A-Za-z0-9._-]+`);
  for (const ip of sans.ips) if (isIP(ip) === 0) throw new Error(`${JSON.stringify(ip)} is not an IP address`);
  for (const dns of sans.dns) if (!/^[A-Za-z0-9*._-]+$/.test(dns)) throw new Error(`${JSON.stringify(dns)} is not a DNS name`);
  const altNames = [...sans.dns.map((d) => `DNS:${d}`), ...sans.ips.map((ip) => `IP:${ip}`)];
  if (altNames.length === 0) throw new Error('a leaf certificate needs at least one DNS name or IP address');

  const certPath = path.join(dir, `${name}.pem`);
  const keyPath = path.join(dir, `${name}.key`);
  const csrPath = path.join(dir, `${name}.csr`);
  const configPath = path.join(dir, `${name}.cnf`);
  await writeFile(configPath, [
    '[req]', 'distinguished_name = dn', 'prompt = no',
    // The CN is informational only: clients match subjectAltName and ignore the CN when a SAN is present.
    '[dn]', `CN = ${configValue(sans.dns[0] ?? sans.ips[0] ?? name)}`,
    '[leaf_ext]',
    'basicConstraints = critical, CA:FALSE',
    // EC keys sign (ECDHE); keyEncipherment belongs to RSA key transport and would be wrong here.
    'keyUsage = critical, digitalSignature',
    `extendedKeyUsage = ${sans.usage ?? 'serverAuth'}`,
    `subjectAltName = ${altNames.join(', ')}`,
    'subjectKeyIdentifier = hash',
    'authorityKeyIdentifier = keyid:always',
    '',
  ].join('\n'));
  try {
    await openssl(['req', '-new', ...KEY_ARGS, '-keyout', keyPath, '-out', csrPath, '-config', configPath]);
    // `x509 -req` (rather than `req -x509 -CA`, OpenSSL 3 only) keeps this working with OpenSSL 1.1.1. A random
    // serial instead of `-CAcreateserial` lets tests issue certificates concurrently without sharing a serial file.
    await openssl(['x509', '-req', '-in', csrPath, '-CA', ca.certPath, '-CAkey', ca.keyPath,
      '-set_serial', randomSerial(), '-days', VALIDITY_DAYS, '-sha256',
      '-extfile', configPath, '-extensions', 'leaf_ext', '-out', certPath]);
  } finally {
    await Promise.all([rm(csrPath, { force: true }), rm(configPath, { force: true })]);
  }
  await chmod(keyPath, 0o600);
  const [certPem, keyPem] = await Promise.all([readFile(certPath, 'utf8'), readFile(keyPath, 'utf8')]);
  return { certPath, keyPath, certPem, keyPem };
}

/** 63 random bits, positive: RFC 5280 wants unique serials of at most 20 octets. */
function randomSerial(): string {
  const bytes = randomBytes(8);
  bytes[0] = (bytes[0] ?? 0) & 0x7f;
  return `0x${bytes.toString('hex')}`;
}

/** Values in an OpenSSL config are unquoted text; refuse the characters that would change its meaning. */
function configValue(value: string): string {
  if (/[\n\r$\\"#]/.test(value)) throw new Error(`${JSON.stringify(value)} cannot be written to an OpenSSL config`);
  return value;
}

function openssl(args: readonly string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile('openssl', args, { timeout: 30_000 }, (err, _stdout, stderr) => {
      if (!err) return resolve();
      const missing = (err as NodeJS.ErrnoException).code === 'ENOENT';
      reject(new Error(missing
        ? 'openssl not found on PATH (install it, e.g. `apt-get install openssl`)'
        : `openssl ${args[0] ?? ''} failed: ${String(stderr).trim() || err.message}`, { cause: err }));
    });
  });
}
