/**
 * The test bed must look to the proxy exactly like Redshift's data plane: TLS-only TCP with a certificate that
 * names localhost and 127.0.0.1 (not 127.0.0.2), md5 logins, `VALID UNTIL` enforced, restarts on the same port.
 */
import { X509Certificate } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueCert } from './certs.js';
import { directTlsConnectionConfig, startTestBed } from './pg-server.js';
import type { TestBed } from './pg-server.js';

const ANALYST = 'IAM:analyst';
const PASSWORD = "pw-'quoted'-1";
const SERVER_AUTH = '1.3.6.1.5.5.7.3.1';

let bed: TestBed;

beforeAll(async () => {
  bed = await startTestBed();
  await bed.createLoginRole(ANALYST, PASSWORD);
  await bed.createLoginRole('IAM:expired', 'pw-expired', new Date(Date.now() - 60_000));
});

afterAll(async () => {
  await bed?.stop();
});

/** Connects, runs one query, disconnects; the first row. */
async function queryOnce(config: pg.ClientConfig, sql: string): Promise<Record<string, unknown> | undefined> {
  const client = new pg.Client(config);
  await client.connect();
  try {
    return (await client.query(sql)).rows[0] as Record<string, unknown> | undefined;
  } finally {
    await client.end();
  }
}

const WHO = 'SELECT current_user AS user, ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()';

describe('logins', () => {
  it('accepts an md5 login over verified TLS, and the backend sees TLS', async () => {
    expect(await queryOnce(directTlsConnectionConfig(bed, ANALYST, PASSWORD), WHO)).toEqual({ user: ANALYST, ssl: true });
    // password_encryption = md5: the stored verifier is what md5 authentication needs.
    const [row] = await bed.superuserQuery<{ md5: boolean }>(
      "SELECT rolpassword LIKE 'md5%' AS md5 FROM pg_authid WHERE rolname = $1", [ANALYST]);
    expect(row?.md5).toBe(true);
  });

  it('refuses plaintext TCP in pg_hba.conf', async () => {
    const plain = { ...directTlsConnectionConfig(bed, ANALYST, PASSWORD), ssl: false };
    await expect(queryOnce(plain, WHO)).rejects.toMatchObject({
      code: '28000', message: expect.stringMatching(/pg_hba\.conf rejects connection .*no encryption/),
    });
  });

  it('refuses a wrong password', async () => {
    await expect(queryOnce(directTlsConnectionConfig(bed, ANALYST, 'wrong'), WHO)).rejects.toMatchObject({
      code: '28P01', message: `password authentication failed for user "${ANALYST}"`,
    });
  });

  it('refuses a password past its VALID UNTIL, and says why only in the server log', async () => {
    await expect(queryOnce(directTlsConnectionConfig(bed, 'IAM:expired', 'pw-expired'), WHO))
      .rejects.toMatchObject({ code: '28P01' });
    expect(await bed.readLog()).toContain('User "IAM:expired" has an expired password');
  });

  it('createLoginRole on an existing role replaces its password and expiry', async () => {
    await bed.createLoginRole('IAM:expired', 'pw-renewed');
    expect(await queryOnce(directTlsConnectionConfig(bed, 'IAM:expired', 'pw-renewed'), WHO))
      .toEqual({ user: 'IAM:expired', ssl: true });
    await expect(queryOnce(directTlsConnectionConfig(bed, 'IAM:expired', 'pw-expired'), WHO))
      .rejects.toMatchObject({ code: '28P01' });
  });

  it('lets a login role create tables in dev', async () => {
    const client = new pg.Client(directTlsConnectionConfig(bed, ANALYST, PASSWORD));
    await client.connect();
    try {
      await client.query('CREATE TABLE public.t_analyst (id int)');
      await client.query('INSERT INTO t_analyst VALUES (1)');
      expect((await client.query('SELECT current_database() AS db, count(*)::int AS n FROM t_analyst')).rows)
        .toEqual([{ db: 'dev', n: 1 }]);
    } finally {
      await client.end();
    }
  });

  it('logs connections and disconnections', async () => {
    await queryOnce(directTlsConnectionConfig(bed, ANALYST, PASSWORD), 'SELECT 1');
    expect(await bed.readLog()).toMatch(/connection authorized: user=IAM:analyst database=dev SSL enabled/);
    await bed.waitForLog(/disconnection: session time: .* user=IAM:analyst database=dev/);
  });
});

describe('the server certificate', () => {
  const ssl = () => ({ ca: bed.caPem, rejectUnauthorized: true });
  const at = (host: string, extra: Partial<pg.ClientConfig> = {}): pg.ClientConfig =>
    ({ ...directTlsConnectionConfig(bed, ANALYST, PASSWORD), host, ssl: ssl(), ...extra });

  it('is accepted for localhost and 127.0.0.1', async () => {
    expect(await queryOnce(at('127.0.0.1'), WHO)).toMatchObject({ ssl: true });
    expect(await queryOnce(at('localhost'), WHO)).toMatchObject({ ssl: true });
  });

  it('is refused for 127.0.0.2, which the server listens on but the certificate does not name', async () => {
    await expect(queryOnce(at('127.0.0.2'), WHO)).rejects.toMatchObject({
      code: 'ERR_TLS_CERT_ALTNAME_INVALID', message: expect.stringContaining("IP: 127.0.0.2 is not in the cert's list"),
    });
    // The same address with the right name to check passes: only the host name check failed.
    expect(await queryOnce(at('127.0.0.2', { ssl: { ...ssl(), servername: 'localhost' } }), WHO)).toMatchObject({ ssl: true });
  });

  it('is a CA-signed server certificate with a private key only the server user can read', async () => {
    const ca = new X509Certificate(bed.caPem);
    const dir = await mkdtemp(path.join(tmpdir(), 'rap-cert-'));
    try {
      const leaf = await issueCert(bed.ca, dir, 'other', { dns: ['wrong.example'], ips: ['10.1.2.3'] });
      const cert = new X509Certificate(leaf.certPem);
      expect(ca.ca).toBe(true);
      expect(cert.ca).toBe(false);
      expect(cert.verify(ca.publicKey)).toBe(true);
      expect(cert.checkHost('wrong.example')).toBe('wrong.example');
      expect(cert.checkIP('10.1.2.3')).toBe('10.1.2.3');
      expect(cert.checkHost('localhost')).toBeUndefined();
      expect(cert.keyUsage).toContain(SERVER_AUTH);
      expect((await stat(leaf.keyPath)).mode & 0o777).toBe(0o600);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    const serverKey = await stat(path.join(bed.dir, 'tls', 'server.key'));
    expect(serverKey.mode & 0o777).toBe(0o600);
    expect(serverKey.uid).toBe((await stat(bed.dataDir)).uid);
  });
});

describe('lifecycle', () => {
  it('restarts on the same port, ending idle sessions with 57P01', async () => {
    const port = bed.port;
    const idle = new pg.Client(directTlsConnectionConfig(bed, ANALYST, PASSWORD));
    await idle.connect();
    const ended = new Promise<unknown>((resolve) => idle.on('error', resolve));
    await bed.restart();
    expect(await ended).toMatchObject({ code: '57P01' });
    await idle.end().catch(() => undefined);
    expect(bed.port).toBe(port);
    expect(await queryOnce(directTlsConnectionConfig(bed, ANALYST, PASSWORD), WHO)).toMatchObject({ ssl: true });
    expect(await bed.superuserQuery('SELECT 1 AS one')).toEqual([{ one: 1 }]);
  });

  it('fails to start with an error that quotes the server log', async () => {
    await expect(startTestBed({ settings: { shared_buffers: "'banana'" } }))
      .rejects.toThrow(/server did not start: pg_ctl failed[\s\S]*--- server log ---[\s\S]*invalid value for parameter "shared_buffers"/);
  });

  it('stops idempotently and removes its directory, also through await using', async () => {
    let dir = '';
    {
      await using other = await startTestBed({ maxConnections: 20, listenAddresses: ['127.0.0.1'] });
      dir = other.dir;
      expect(await other.superuserQuery('SHOW max_connections')).toEqual([{ max_connections: '20' }]);
      expect(await other.superuserQuery('SELECT datname FROM pg_database WHERE datname = $1', ['dev'], 'postgres'))
        .toEqual([{ datname: 'dev' }]);
      await other.stop();
    }
    expect(existsSync(dir)).toBe(false);
  });
});
