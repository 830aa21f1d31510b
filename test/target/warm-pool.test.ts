/**
 * The warm pool's bounds and timers on a fake clock: spares per key, the total per listener with the least recently
 * used key closed first, the idle timeout and the refill delay — minutes of policy checked without sleeping. The
 * dialer stands in for Redshift with real loopback TCP connections (a session's socket is what the pool watches);
 * the e2e tests (test/e2e/warm-pool.test.ts, test/security/upstream-budget.test.ts) run the real one.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import net from 'node:net';
import type { TLSSocket } from 'node:tls';
import { CredentialCache } from '../../src/credentials/credential-cache.js';
import { createLogger } from '../../src/ops/logger.js';
import type { UpstreamSession } from '../../src/target/open-upstream.js';
import { Target } from '../../src/target/target.js';
import { WarmPool } from '../../src/target/warm-pool.js';
import type { SpareDialer } from '../../src/target/warm-pool.js';
import { FakeClock, settle } from '../support/fake-clock.js';

let server: net.Server;
let port: number;
const accepted = new Set<net.Socket>();

beforeAll(async () => {
  server = net.createServer((s) => {
    accepted.add(s);
    s.on('error', () => undefined);
    s.once('close', () => accepted.delete(s));
    s.resume();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as net.AddressInfo).port;
});

afterAll(async () => {
  for (const s of accepted) s.destroy();
  await new Promise<void>((r) => server.close(() => r()));
});

const cache = new CredentialCache();
const target = new Target({ upstreamHost: 'c.abc123xyz.us-east-1.redshift.amazonaws.com', upstreamPort: 5439, clusterId: 'c',
  region: 'us-east-1', dbGroups: [], autoCreate: false, withIam: false }, cache, 1_000);

/** Opens real loopback connections and counts what the pool asks for. */
class LoopbackDialer implements SpareDialer {
  readonly target = target;
  opened = 0;
  closed = 0;
  constructor(private readonly clock: FakeClock) {}

  private async connect(params: ReadonlyMap<string, string>): Promise<UpstreamSession> {
    this.opened++;
    const socket = await new Promise<net.Socket>((resolve) => {
      const s = net.connect({ host: '127.0.0.1', port }, () => resolve(s));
    });
    return { socket: socket as unknown as TLSSocket, endpoint: { host: '127.0.0.1', port, connectTimeoutMs: 1_000 },
      dbUser: `IAMA:${params.get('user') ?? ''}`, database: 'dev', credentialExpiresAt: new Date(this.clock.now() + 3_600_000),
      statusFrames: [], backendKey: undefined, readyForQuery: Buffer.from('Z\0\0\0\x05I', 'latin1'), leftover: Buffer.alloc(0) };
  }

  open(params: ReadonlyMap<string, string>): Promise<UpstreamSession> {
    return this.connect(params);
  }

  openSpare(params: ReadonlyMap<string, string>): Promise<UpstreamSession> {
    return this.connect(params);
  }

  close(session: UpstreamSession): void {
    this.closed++;
    session.socket.destroy();
  }

  async cancel(): Promise<void> {}
}

const log = createLogger('silent');
const params = (app: string): Map<string, string> => new Map([['user', 'u'], ['database', 'dev'], ['application_name', app]]);

/** Lets the dialer's loopback connects complete (real I/O), then what the pool does with them. */
async function connectsLand(): Promise<void> {
  for (let i = 0; i < 20; i++) await settle();
}

describe('WarmPool on a fake clock', () => {
  it('opens --warm spares per key, hands them out, and refills only after the refill delay', async () => {
    const clock = new FakeClock();
    const dialer = new LoopbackDialer(clock);
    const pool = new WarmPool(dialer, { perKey: 2, total: 8, idleMs: 300_000, clock }, log);
    const own = await pool.open(params('a'), new AbortController().signal);
    await connectsLand();
    expect(dialer.opened).toBe(3);
    expect(pool.size).toBe(2);
    const spare = await pool.open(params('a'), new AbortController().signal);
    expect(pool.stats).toMatchObject({ hits: 1, misses: 1 });
    expect(pool.size).toBe(1);
    await clock.advance(199);
    await connectsLand();
    expect(dialer.opened).toBe(3);
    await clock.advance(1);
    await connectsLand();
    expect(dialer.opened).toBe(4);
    expect(pool.size).toBe(2);
    own.socket.destroy();
    spare.socket.destroy();
    pool.shutdown();
  });

  it('after a burst, a refill opens what was taken (less what came back), up to the connections the clients lack', async () => {
    const clock = new FakeClock();
    const dialer = new LoopbackDialer(clock);
    const pool = new WarmPool(dialer, { perKey: 2, total: 8, idleMs: 300_000, clock }, log);
    const open = (): Promise<UpstreamSession> => pool.open(params('burst'), new AbortController().signal);
    const held = [await open()];
    await connectsLand();
    expect(pool.size).toBe(2);
    held.push(await open(), await open()); // the two spares
    held.push(await open(), await open()); // misses: the first opens --warm spares again, the second finds them on the way
    await connectsLand();
    expect(pool.stats).toMatchObject({ hits: 2, misses: 3 });
    expect(pool.size).toBe(2);
    expect(dialer.opened).toBe(7);
    // Four of the five leave without giving their connection back: five were wanted at once, one is held now.
    for (const s of held.slice(1)) s.socket.destroy();
    await connectsLand();
    await clock.advance(200);
    await connectsLand();
    // The refill replaces the two spares taken, beyond --warm: the key lately needed four more than it holds.
    expect(dialer.opened).toBe(9);
    expect(pool.size).toBe(4);
    // While every client still holds its connection, spares stay at --warm (the rest would only idle).
    const again = [await open(), await open(), await open(), await open(), await open()];
    await connectsLand();
    await clock.advance(200);
    await connectsLand();
    expect(pool.stats.hits).toBe(6);
    expect(pool.size).toBe(2);
    for (const s of [held[0] as UpstreamSession, ...again]) s.socket.destroy();
    pool.shutdown();
  });

  it('keeps at most the total over every key: the least recently used key gives up its spares first', async () => {
    const clock = new FakeClock();
    const dialer = new LoopbackDialer(clock);
    const pool = new WarmPool(dialer, { perKey: 2, total: 4, idleMs: 300_000, clock }, log);
    const sessions: UpstreamSession[] = [];
    for (const app of ['a', 'b', 'c']) {
      sessions.push(await pool.open(params(app), new AbortController().signal));
      await connectsLand();
      await clock.advance(10);
    }
    expect(pool.size).toBe(4);
    // 'a' was used least recently: its spares went to make room for 'c'.
    expect(pool.stats.evicted).toBe(2);
    const fromB = await pool.open(params('b'), new AbortController().signal);
    expect(pool.stats.hits).toBe(1);
    await pool.open(params('a'), new AbortController().signal).then((s) => sessions.push(s));
    expect(pool.stats.misses).toBe(4);
    for (const s of [...sessions, fromB]) s.socket.destroy();
    pool.shutdown();
  });

  it('closes a spare unused for --warm-idle, and forgets the key', async () => {
    const clock = new FakeClock();
    const dialer = new LoopbackDialer(clock);
    const pool = new WarmPool(dialer, { perKey: 1, total: 4, idleMs: 300_000, clock }, log);
    const own = await pool.open(params('idle'), new AbortController().signal);
    await connectsLand();
    expect(pool.size).toBe(1);
    await clock.advance(299_999);
    expect(pool.size).toBe(1);
    await clock.advance(1);
    expect(pool.size).toBe(0);
    expect(dialer.closed).toBe(1);
    expect(clock.pending).toBe(0);
    own.socket.destroy();
    pool.shutdown();
  });
});
