import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { directTlsConnectionConfig, startTestBed } from './pg-server.js';
import type { TestBed } from './pg-server.js';

let bed: TestBed;

beforeAll(async () => {
  bed = await startTestBed();
  await bed.createLoginRole('IAM:bed', 'pw-bed-1');
  await bed.createLoginRole('IAM:old', 'pw-old', new Date(Date.now() - 60_000));
});

afterAll(async () => {
  await bed?.stop();
});

async function tryConnect(config: pg.ClientConfig): Promise<Record<string, unknown>> {
  const c = new pg.Client(config);
  await c.connect();
  try {
    return (await c.query('select current_user as u, ssl from pg_stat_ssl where pid = pg_backend_pid()')).rows[0];
  } finally {
    await c.end();
  }
}

describe('the PostgreSQL test bed looks like Redshift\'s data plane', () => {
  it('accepts md5 logins over verified TLS', async () => {
    expect(await tryConnect(directTlsConnectionConfig(bed, 'IAM:bed', 'pw-bed-1'))).toEqual({ u: 'IAM:bed', ssl: true });
    expect(await bed.readLog()).toMatch(/connection authorized: user=IAM:bed/);
  });

  it('rejects plaintext TCP, wrong passwords and expired passwords', async () => {
    await expect(tryConnect({ ...directTlsConnectionConfig(bed, 'IAM:bed', 'pw-bed-1'), ssl: false })).rejects.toThrow(/no encryption|pg_hba/);
    await expect(tryConnect(directTlsConnectionConfig(bed, 'IAM:bed', 'wrong'))).rejects.toMatchObject({ code: '28P01' });
    await expect(tryConnect(directTlsConnectionConfig(bed, 'IAM:old', 'pw-old'))).rejects.toMatchObject({ code: '28P01' });
  });

  it('presents a certificate that names localhost and 127.0.0.1 but not 127.0.0.2', async () => {
    const cfg = directTlsConnectionConfig(bed, 'IAM:bed', 'pw-bed-1');
    expect(await tryConnect({ ...cfg, host: '127.0.0.1', ssl: { ca: bed.caPem, rejectUnauthorized: true } })).toMatchObject({ ssl: true });
    await expect(tryConnect({ ...cfg, host: '127.0.0.2', ssl: { ca: bed.caPem, rejectUnauthorized: true } })).rejects.toThrow(/altnames|IP: 127\.0\.0\.2/);
  });

  it('restarts on the same port', async () => {
    await bed.restart();
    expect(await tryConnect(directTlsConnectionConfig(bed, 'IAM:bed', 'pw-bed-1'))).toMatchObject({ ssl: true });
  });
});
