/**
 * Who may connect: a listener with client TLS answers SSLRequest with 'S'; with a password, clients prove it with
 * SCRAM-SHA-256 before any AWS call; with a client CA, only certificates it signed get in.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { issueCert } from '../support/certs.js';
import type { IssuedCert } from '../support/certs.js';
import { firstError, psql, rawExchange } from '../support/clients.js';
import { startupMessage } from '../../src/protocol/frontend-messages.js';
import { startStack } from '../support/stack.js';
import type { Stack } from '../support/stack.js';
import type { ListenerConfig } from '../../src/config/config.js';
import { startProxy } from '../../src/proxy/proxy.js';
import type { RunningProxy } from '../../src/proxy/proxy.js';
import { targetFor } from '../support/stack.js';

let stack: Stack;
let serverCert: IssuedCert;
let clientCert: IssuedCert;
const proxies: RunningProxy[] = [];

beforeAll(async () => {
  stack = await startStack();
  const dir = await mkdtemp(path.join(tmpdir(), 'rap-client-tls-'));
  serverCert = await issueCert(stack.bed.ca, dir, 'proxy', { dns: ['localhost'], ips: ['127.0.0.1'] });
  clientCert = await issueCert(stack.bed.ca, dir, 'analyst-client', { dns: ['analyst'], ips: [], usage: 'clientAuth' });
});

afterAll(async () => {
  await Promise.all(proxies.map((p) => p.close()));
  await stack?.stop();
});

async function listener(extra: Partial<ListenerConfig>): Promise<number> {
  const p = await startProxy({
    listeners: [{ host: '127.0.0.1', port: 0, target: targetFor(stack.bed, stack.emulator), ...extra }],
    startupTimeoutMs: 5_000, connectTimeoutMs: 5_000, maxStartupPacket: 10_000, logLevel: 'silent',
  }, stack.log);
  proxies.push(p);
  return p.addresses[0]?.port as number;
}

async function whoAmI(config: pg.ClientConfig): Promise<Record<string, unknown>> {
  const c = new pg.Client({ host: '127.0.0.1', database: 'dev', ...config });
  await c.connect();
  try {
    return (await c.query('select current_user as u')).rows[0];
  } finally {
    await c.end();
  }
}

describe('client TLS and authentication', () => {
  it('with client TLS and a password: SCRAM over verified TLS gets in; a wrong password gets 28P01 before any AWS call', async () => {
    const port = await listener({
      clientTls: { certFile: serverCert.certPath, keyFile: serverCert.keyPath, require: true },
      clientAuth: { password: 'correct horse battery staple' },
    });
    const ssl = { ca: stack.bed.caPem, servername: 'localhost', rejectUnauthorized: true };
    expect(await whoAmI({ port, user: 'tlsuser', password: 'correct horse battery staple', ssl })).toEqual({ u: 'IAMA:tlsuser' });
    stack.emulator.resetCounters();
    await expect(whoAmI({ port, user: 'tlsuser2', password: 'wrong', ssl })).rejects.toMatchObject({ code: '28P01' });
    expect(stack.emulator.callLog).toHaveLength(0);
    await expect(whoAmI({ port, user: 'tlsuser', password: 'correct horse battery staple', ssl: false }))
      .rejects.toMatchObject({ code: '28000' });
  });

  it('a client that stalls in the password exchange is refused at the startup timeout, not held forever', async () => {
    const port = await listener({ clientAuth: { password: 'stall-test-password' } });
    const r = await rawExchange(port, startupMessage(new Map([['user', 'staller'], ['database', 'dev']])), 9_000);
    expect(r.closed).toBe(true);
    expect(r.ms).toBeGreaterThanOrEqual(4_500);
    expect(firstError(r.data)).toMatchObject({ C: '08P01', M: expect.stringContaining('password authentication') });
  }, 15_000);

  it('psql with sslmode=verify-full and the password works (libpq SCRAM + TLS)', async () => {
    const port = await listener({
      clientTls: { certFile: serverCert.certPath, keyFile: serverCert.keyPath, require: true },
      clientAuth: { password: 's3cret-for-psql' },
    });
    const env = process.env.PGPASSWORD;
    process.env.PGPASSWORD = 's3cret-for-psql';
    try {
      const r = await psql(`host=localhost port=${port} dbname=dev user=psqltls sslmode=verify-full sslrootcert=${stack.bed.caCertPath} password=s3cret-for-psql`,
        ['-At', '-c', 'select current_user, ssl from pg_stat_ssl where pid = pg_backend_pid()']);
      expect(r.stderr).toBe('');
      expect(r.stdout.trim()).toBe('IAMA:psqltls|t');
    } finally {
      if (env === undefined) delete process.env.PGPASSWORD;
      else process.env.PGPASSWORD = env;
    }
  });

  it('with a client CA: a certificate it signed gets in, none gets refused', async () => {
    const port = await listener({
      clientTls: { certFile: serverCert.certPath, keyFile: serverCert.keyPath, require: true },
      clientAuth: { caFile: stack.bed.caCertPath },
    });
    const base = { ca: stack.bed.caPem, servername: 'localhost', rejectUnauthorized: true };
    expect(await whoAmI({ port, user: 'certuser', ssl: { ...base, cert: clientCert.certPem, key: clientCert.keyPem } }))
      .toEqual({ u: 'IAMA:certuser' });
    await expect(whoAmI({ port, user: 'nocert', ssl: base })).rejects.toBeTruthy();
  });

  it('without client TLS configured, SSLRequest keeps getting N', async () => {
    const port = await listener({});
    const r = await rawExchange(port, Buffer.from('0000000804d2162f', 'hex'), 300);
    expect(r.data.toString()).toBe('N');
  });

  it('refuses bytes sent after SSLRequest before the handshake', async () => {
    const port = await listener({ clientTls: { certFile: serverCert.certPath, keyFile: serverCert.keyPath, require: false } });
    const r = await rawExchange(port, Buffer.concat([Buffer.from('0000000804d2162f', 'hex'), Buffer.from('0000000800030000', 'hex')]), 2_000);
    expect(r.closed).toBe(true);
    expect(r.data.toString('utf8', 0, 1)).not.toBe('S');
  });
});
