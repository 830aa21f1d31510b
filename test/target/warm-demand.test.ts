/**
 * WarmDemand on a fake clock: connections held per key, the recent peak the warm pool grows toward, its decay after
 * the window, and holds that end with their socket (a real loopback socket: the close is what it watches).
 */
import { describe, expect, it } from 'vitest';
import net from 'node:net';
import { WarmDemand } from '../../src/target/warm-demand.js';
import { FakeClock } from '../support/fake-clock.js';

describe('WarmDemand', () => {
  it('remembers the most connections held at once for the window, then only what is held', async () => {
    const clock = new FakeClock();
    const idle: string[] = [];
    const demand = new WarmDemand(clock, 60_000, (key) => idle.push(key));
    const holds = [demand.hold('k'), demand.hold('k'), demand.hold('k')];
    expect([demand.inUse('k'), demand.peak('k')]).toEqual([3, 3]);
    holds[0]?.release();
    holds[0]?.release(); // idempotent
    holds[1]?.release();
    expect([demand.inUse('k'), demand.peak('k')]).toEqual([1, 3]);
    await clock.advance(60_001);
    expect(demand.peak('k')).toBe(1);
    expect(idle).toEqual([]);
    holds[2]?.release();
    expect(idle).toEqual(['k']);
    demand.forget('k');
    expect(demand.peak('k')).toBe(0);
  });

  it('ends a hold when its socket closes, and on release(socket) once', async () => {
    const server = net.createServer((s) => s.resume());
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as net.AddressInfo).port;
    const connect = (): Promise<net.Socket> => new Promise((resolve) => {
      const s = net.connect({ host: '127.0.0.1', port }, () => resolve(s));
    });
    const demand = new WarmDemand(new FakeClock(), 60_000, () => undefined);
    const [a, b] = [await connect(), await connect()];
    demand.hold('k').bind(a);
    demand.hold('k').bind(b);
    expect(demand.inUse('k')).toBe(2);
    a.destroy();
    await new Promise((r) => a.once('close', r));
    expect(demand.inUse('k')).toBe(1);
    demand.release(b);
    demand.release(b);
    expect(demand.inUse('k')).toBe(0);
    b.destroy();
    await new Promise<void>((r) => server.close(() => r()));
  });
});
