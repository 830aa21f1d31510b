/**
 * The upstream hop never carries a credential in clear text or to an unverified server: an upstream that answers
 * 'N' to SSLRequest, or whose certificate names another host, is refused before anything is sent.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import net from 'node:net';
import { pgClient } from '../support/clients.js';
import { startStack } from '../support/stack.js';
import type { Stack } from '../support/stack.js';

let stack: Stack;

beforeAll(async () => {
  stack = await startStack();
});

afterAll(async () => {
  await stack?.stop();
});

async function connectError(port: number, user: string): Promise<{ code?: string; message: string; hint?: string }> {
  const c = pgClient(port, user);
  try {
    await c.connect();
    await c.end();
    throw new Error('connected, but the proxy should have refused');
  } catch (err) {
    return err as { code?: string; message: string; hint?: string };
  }
}

describe('upstream TLS is required and verified', () => {
  it('an upstream answering N to SSLRequest is refused and receives nothing more', async () => {
    const received: Buffer[] = [];
    const fake = net.createServer((s) => {
      s.on('data', (d) => {
        received.push(d);
        s.write('N');
      });
      s.on('error', () => undefined);
    });
    await new Promise<void>((r) => fake.listen(0, '127.0.0.1', r));
    const fakePort = (fake.address() as net.AddressInfo).port;
    try {
      const p = await stack.startProxy({ upstreamHost: '127.0.0.1', upstreamPort: fakePort });
      const err = await connectError(p.addresses[0]?.port as number, 'plain');
      expect(err.code).toBe('08001');
      expect(err.message).toMatch(/refused TLS/);
      expect(err.hint).toBeTruthy();
      await new Promise((r) => setTimeout(r, 100));
      // Exactly the 8-byte SSLRequest, nothing after it.
      expect(Buffer.concat(received).toString('hex')).toBe('0000000804d2162f');
    } finally {
      fake.close();
    }
  });

  it('an upstream whose certificate names another host is refused; the server logs no login attempt', async () => {
    // The test bed's certificate names localhost and 127.0.0.1 only; 127.0.0.2 reaches the same server.
    const p = await stack.startProxy({ upstreamHost: '127.0.0.2' });
    const err = await connectError(p.addresses[0]?.port as number, 'mitm-victim');
    expect(err.code).toBe('08001');
    expect(err.message).toMatch(/certificate/);
    expect(err.hint).toMatch(/--ca-file|endpoint/);
    const log = await stack.bed.readLog();
    expect(log).not.toMatch(/mitm-victim/);
  });

  it('an upstream certificate from an untrusted CA is refused', async () => {
    const p = await stack.startProxy({ caFile: undefined });
    const err = await connectError(p.addresses[0]?.port as number, 'untrusted');
    expect(err.code).toBe('08001');
    expect(err.message).toMatch(/certificate/);
    expect(await stack.bed.readLog()).not.toMatch(/untrusted/);
  });

  it('an unreachable upstream gives 08001 with a hint, not a reset', async () => {
    const closed = net.createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as net.AddressInfo).port;
    await new Promise<void>((r) => closed.close(() => r()));
    const p = await stack.startProxy({ upstreamHost: '127.0.0.1', upstreamPort: port });
    const err = await connectError(p.addresses[0]?.port as number, 'nobody');
    expect(err.code).toBe('08001');
    expect(err.message).toMatch(/cannot connect to Redshift/);
    expect(err.hint).toMatch(/--upstream/);
  });
});
