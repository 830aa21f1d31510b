/**
 * Finding 3 of issue 18, as the attack: an upstream that answers the SSLRequest with 'S' and then goes silent.
 * Before the fix the connect timer destroyed the TCP socket, but the TLS socket wrapped around it never settled, so
 * with --connect-timeout 5 --startup-timeout 5 --max-connections 3 three clients were still waiting at 90 s and
 * held every slot. Now one deadline runs from the TCP connect through TLS to ReadyForQuery, for client logins,
 * heals and warm spares alike (they all open through the DirectDialer), and the client hears 08001 in time.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { RunningProxy } from '../../src/proxy/proxy.js';
import { ConfiguredTarget } from '../../src/target/configured-target.js';
import { DirectDialer } from '../../src/target/direct-dialer.js';
import { connectTls } from '../../src/upstream/connect-tls.js';
import { ClientError } from '../../src/protocol/client-error.js';
import { issueCert } from '../support/certs.js';
import { psql, withClient } from '../support/clients.js';
import { refusal } from '../support/refusals.js';
import { startStack, targetFor } from '../support/stack.js';
import type { Stack } from '../support/stack.js';
import { FaultyUpstream } from './faulty-upstream.js';

const CONNECT_TIMEOUT_MS = 1_000;
const STARTUP_TIMEOUT_MS = 2_000;
/** Scheduling slack on a busy machine. */
const SLACK_MS = 1_500;

let stack: Stack;
let faulty: FaultyUpstream;
let certDir: string;
let proxy: RunningProxy;
let port: number;

beforeAll(async () => {
  stack = await startStack();
  certDir = await mkdtemp(path.join(tmpdir(), 'rap-deadline-'));
  const cert = await issueCert(stack.bed.ca, certDir, 'faulty-upstream', { dns: ['localhost'], ips: ['127.0.0.1'] });
  faulty = await FaultyUpstream.start({ host: '127.0.0.1', port: stack.bed.port }, cert);
  proxy = await stack.startProxy({ upstreamHost: '127.0.0.1', upstreamPort: faulty.port },
    { connectTimeoutMs: CONNECT_TIMEOUT_MS, startupTimeoutMs: STARTUP_TIMEOUT_MS, maxConnections: 3 });
  port = proxy.addresses[0]?.port as number;
});

afterAll(async () => {
  await faulty?.close();
  await stack?.stop();
  if (certDir) await rm(certDir, { recursive: true, force: true });
});

describe('an upstream that answers S and then stalls the TLS handshake', () => {
  it('connectTls itself settles at its connect timeout (the TLS socket, not only TCP, is torn down)', async () => {
    await faulty.setFault('silent-after-S');
    const endpoint = { host: '127.0.0.1', port: faulty.port, connectTimeoutMs: 300 };
    const started = Date.now();
    const err = await connectTls(endpoint).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(ClientError);
    expect((err as ClientError).code).toBe('08001');
    expect((err as ClientError).message).toMatch(/did not complete a TLS connection within 300 ms/);
    expect(Date.now() - started).toBeLessThan(300 + SLACK_MS);
  });

  it('three clients under --max-connections 3 all get 08001 with a hint in time, and a fourth then gets in', async () => {
    await faulty.setFault('silent-after-S');
    const started = Date.now();
    const [a, b, c] = await Promise.all([
      refusal(port, 'stalled-1'),
      refusal(port, 'stalled-2'),
      psql(`host=127.0.0.1 port=${port} dbname=dev user=stalled-3 sslmode=disable connect_timeout=30`, ['-Atc', 'select 1']),
    ]);
    const ms = Date.now() - started;
    for (const r of [a, b]) {
      expect(r).toMatchObject({ code: '08001', severity: 'FATAL' });
      expect(r.message).toMatch(/TLS connection within|took longer than/);
      expect(r.hint).toBeTruthy();
    }
    expect(c.code).not.toBe(0);
    expect(c.stderr).toMatch(/did not complete a TLS connection within|took longer than/);
    expect(c.stderr).toMatch(/HINT/);
    expect(ms).toBeLessThan(Math.min(CONNECT_TIMEOUT_MS, STARTUP_TIMEOUT_MS) + SLACK_MS);
    // The slots are free again: the fourth client is not refused with 53300 but logs in once the upstream works.
    await faulty.setFault('none');
    const user = await withClient(port, 'fourth', async (client) => (await client.query('select current_user as u')).rows[0].u as string);
    expect(user).toBe('IAMA:fourth');
    expect(proxy.listeners[0]?.activeConnections).toBe(0);
  });

  it('warm spares and heals open through the same deadline: a dial with no session timer settles in time', async () => {
    // A long connect timeout, so the handshake deadline alone must end it — as for a spare, which has no client
    // whose startup timer would.
    const target = new ConfiguredTarget(targetFor(stack.bed, stack.emulator, { upstreamHost: '127.0.0.1', upstreamPort: faulty.port }),
      proxy.cache, 60_000);
    const dialer = new DirectDialer(target, { handshakeTimeoutMs: 700 });
    for (const fault of ['silent-after-S', 'silent-after-startup'] as const) {
      await faulty.setFault(fault);
      const started = Date.now();
      const err = await dialer.open(new Map([['user', `spare-${fault}`], ['database', 'dev']]), new AbortController().signal)
        .then(() => undefined, (e: unknown) => e);
      expect(err).toBeInstanceOf(ClientError);
      expect((err as ClientError).code).toBe('08001');
      expect((err as ClientError).message).toMatch(/did not complete the connection and login within 700 ms/);
      expect((err as ClientError).hint).toBeTruthy();
      expect(Date.now() - started).toBeLessThan(700 + SLACK_MS);
    }
    await faulty.setFault('none');
  });

  it('a server flooding ParameterStatus during login is cut off at the cap, long before any deadline', async () => {
    await faulty.setFault('flood-after-startup');
    const started = Date.now();
    const r = await refusal(port, 'flooded');
    expect(r).toMatchObject({ code: '08001', severity: 'FATAL' });
    expect(r.message).toMatch(/more than 256 KB of parameter and notice messages during login/);
    expect(r.hint).toBeTruthy();
    expect(Date.now() - started).toBeLessThan(STARTUP_TIMEOUT_MS);
    await faulty.setFault('none');
  });
});
