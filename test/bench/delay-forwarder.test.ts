/**
 * The network-distance bench's forwarder: each direction delayed by its one-way time from each chunk's arrival
 * (so a burst of chunks costs one round trip, not one per chunk), bytes in order, half close passed on.
 */
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { startDelayForwarder } from '../../scripts/bench/delay-forwarder.js';
import type { DelayForwarder } from '../../scripts/bench/delay-forwarder.js';

const ONE_WAY = 40;
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function echoThroughForwarder(): Promise<{ forwarder: DelayForwarder; connect: () => Promise<net.Socket> }> {
  const echo = net.createServer({ allowHalfOpen: true }, (s) => s.pipe(s));
  await new Promise<void>((r) => echo.listen(0, '127.0.0.1', r));
  cleanups.push(() => new Promise<void>((r) => echo.close(() => r())));
  const forwarder = await startDelayForwarder({ targetHost: '127.0.0.1', targetPort: (echo.address() as net.AddressInfo).port, oneWayMs: ONE_WAY });
  cleanups.push(() => forwarder.close());
  const connect = async (): Promise<net.Socket> => {
    const s = net.connect({ host: '127.0.0.1', port: forwarder.port, noDelay: true, allowHalfOpen: true });
    await new Promise<void>((r, j) => s.once('connect', r).once('error', j));
    cleanups.push(async () => void s.destroy());
    return s;
  };
  return { forwarder, connect };
}

describe('delay forwarder', () => {
  it('delays a round trip by twice the one-way time, not less', async () => {
    const { connect } = await echoThroughForwarder();
    const s = await connect();
    for (let i = 0; i < 3; i++) {
      const sent = performance.now();
      s.write(`ping${i}`);
      const got = await new Promise<Buffer>((r) => s.once('data', r));
      const ms = performance.now() - sent;
      expect(got.toString()).toBe(`ping${i}`);
      expect(ms).toBeGreaterThanOrEqual(2 * ONE_WAY - 1);
      expect(ms).toBeLessThan(2 * ONE_WAY + 500);
    }
  });

  it('delays each chunk from its own arrival (not cumulatively) and keeps the byte order', async () => {
    const { connect } = await echoThroughForwarder();
    const s = await connect();
    const received: Buffer[] = [];
    s.on('data', (d: Buffer) => received.push(d));
    const chunks = 50;
    const expected: Buffer[] = [];
    const sent = performance.now();
    for (let i = 0; i < chunks; i++) {
      const chunk = Buffer.alloc(10_000, i);
      expected.push(chunk);
      s.write(chunk);
      if (i % 10 === 9) await new Promise((r) => setTimeout(r, 5));
    }
    s.end();
    await new Promise<void>((r) => s.once('end', () => r()));
    const ms = performance.now() - sent;
    expect(Buffer.concat(received).equals(Buffer.concat(expected))).toBe(true);
    // Cumulative delays would take 50 × 80 ms = 4 s; one round trip plus the send pauses is well under 1 s.
    expect(ms).toBeGreaterThanOrEqual(2 * ONE_WAY - 1);
    expect(ms).toBeLessThan(1_000);
  });
});
