/**
 * Point 8 of issue 18, as the attack: wrong client passwords were answered at once (~570 guesses a second). Now a
 * wrong password is answered after a pause that doubles with each failure from the same address (200 ms, 400 ms,
 * … up to 5 s), as PostgreSQL's auth_delay slows guessing; the client still gets 28P01 with a hint.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { AuthFailureDelay } from '../../src/front-door/auth-delay.js';
import { startProxy } from '../../src/proxy/proxy.js';
import type { RunningProxy } from '../../src/proxy/proxy.js';
import { FakeClock } from '../support/fake-clock.js';
import { startStack, targetFor } from '../support/stack.js';
import type { Stack } from '../support/stack.js';

let stack: Stack;
let proxy: RunningProxy;

beforeAll(async () => {
  stack = await startStack();
  proxy = await startProxy({
    listeners: [{ host: '127.0.0.1', port: 0, target: targetFor(stack.bed, stack.emulator), clientAuth: { password: 'the right one' } }],
    startupTimeoutMs: 10_000, connectTimeoutMs: 5_000, maxStartupPacket: 10_000, logLevel: 'silent',
  }, stack.log);
});

afterAll(async () => {
  await proxy?.close();
  await stack?.stop();
});

describe('wrong client passwords', () => {
  it('are answered after a pause that grows per client address: guessing runs at a few a second, not hundreds', async () => {
    const port = proxy.addresses[0]?.port as number;
    const times: number[] = [];
    for (let i = 0; i < 4; i++) {
      const started = Date.now();
      const c = new pg.Client({ host: '127.0.0.1', port, user: 'guesser', database: 'dev', password: `guess-${i}` });
      await expect(c.connect()).rejects.toMatchObject({ code: '28P01' });
      times.push(Date.now() - started);
    }
    expect(times[0]).toBeGreaterThanOrEqual(190);
    expect(times[1]).toBeGreaterThanOrEqual(390);
    expect(times[2]).toBeGreaterThanOrEqual(790);
    expect(times[3]).toBeGreaterThanOrEqual(1_590);
  });

  it('the pause is capped, and an address forgets its failures after a minute without one', async () => {
    const clock = new FakeClock();
    const delay = new AuthFailureDelay(clock);
    const pauses = Array.from({ length: 8 }, () => delay.failed('10.0.0.9'));
    expect(pauses).toEqual([200, 400, 800, 1_600, 3_200, 5_000, 5_000, 5_000]);
    expect(delay.failed('10.0.0.10')).toBe(200);
    await clock.advance(61_000);
    expect(delay.failed('10.0.0.9')).toBe(200);
  });
});

describe('unauthenticated sockets on a listener with TLS and a password', () => {
  it('hold no slot beyond the startup timeout, however they stall (silent, mid-TLS handshake, mid-SCRAM)', async () => {
    const { mkdtemp } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const path = await import('node:path');
    const net = await import('node:net');
    const { issueCert } = await import('../support/certs.js');
    const dir = await mkdtemp(path.join(tmpdir(), 'rap-unauth-'));
    const cert = await issueCert(stack.bed.ca, dir, 'proxy', { dns: ['localhost'], ips: ['127.0.0.1'] });
    const guarded = await startProxy({
      listeners: [{ host: '127.0.0.1', port: 0, target: targetFor(stack.bed, stack.emulator), maxConnections: 3,
        clientAuth: { password: 'the right one' }, clientTls: { certFile: cert.certPath, keyFile: cert.keyPath, require: false } }],
      startupTimeoutMs: 1_000, connectTimeoutMs: 5_000, maxStartupPacket: 10_000, logLevel: 'silent',
    }, stack.log);
    const port = guarded.addresses[0]?.port as number;
    const sslRequest = Buffer.from([0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f]);
    const open = (first?: Buffer): Promise<import('node:net').Socket> => new Promise((resolve) => {
      const s = net.connect({ host: '127.0.0.1', port }, () => {
        if (first) s.write(first);
        resolve(s);
      });
      s.on('error', () => undefined);
      s.resume();
    });
    // One silent socket, one that asks for TLS and never sends a ClientHello, one stalled in SCRAM (plain).
    const scramStart = (() => {
      const body = Buffer.from('\0\x03\0\0user\0staller\0database\0dev\0\0', 'latin1');
      const len = Buffer.alloc(4);
      len.writeInt32BE(body.length + 4);
      return Buffer.concat([len, body]);
    })();
    const stalled = await Promise.all([open(), open(sslRequest), open(scramStart)]);
    await new Promise((r) => setTimeout(r, 100));
    expect(guarded.listeners[0]?.activeConnections).toBe(3);
    const started = Date.now();
    while ((guarded.listeners[0]?.activeConnections ?? 0) > 0 && Date.now() - started < 5_000) await new Promise((r) => setTimeout(r, 50));
    expect(guarded.listeners[0]?.activeConnections).toBe(0);
    expect(Date.now() - started).toBeLessThan(1_000 + 1_500);
    const c = new pg.Client({ host: '127.0.0.1', port, user: 'after-stall', database: 'dev', password: 'the right one',
      ssl: { ca: stack.bed.caPem, servername: 'localhost' } });
    await c.connect();
    expect((await c.query('select current_user as u')).rows[0].u).toBe('IAMA:after-stall');
    await c.end();
    for (const s of stalled) s.destroy();
    await guarded.close();
  });
});
