/**
 * The limits that keep one client from holding the door: the size of the startup packet (and of what may pile up
 * behind it before login completes), the time allowed to complete startup and login — counted from the accept,
 * however slowly the bytes trickle in or the AWS API answers — and service for everyone else while hundreds of
 * connections stall, idle or send garbage.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import type { RunningProxy } from '../../src/proxy/proxy.js';
import { withClient } from '../support/clients.js';
import { refusal } from '../support/refusals.js';
import { startStack } from '../support/stack.js';
import type { Stack } from '../support/stack.js';
import { runPool } from '../../scripts/load/pool.js';
import { RawConnection } from './raw-connection.js';
import { errorsIn, query, scanBackend, startupMessage } from './wire.js';

/** The stack's configured limit (the product default), bytes. */
const MAX_STARTUP_PACKET = 10_000;
const STARTUP_TIMEOUT_MS = 1_500;
const SLACK_MS = 1_500;

let stack: Stack;
/** A proxy with a short startup limit. */
let quick: RunningProxy;
let quickPort: number;

beforeAll(async () => {
  stack = await startStack({ config: { maxStartupPacket: MAX_STARTUP_PACKET } });
  quick = await stack.startProxy({}, { startupTimeoutMs: STARTUP_TIMEOUT_MS });
  quickPort = quick.addresses[0]?.port as number;
});

afterAll(async () => {
  stack?.emulator.setDelay(0);
  await stack?.stop();
});

/** A StartupMessage for `user` padded with application_name to exactly `length` bytes. */
function startupOfLength(user: string, length: number): Buffer {
  const bare = startupMessage([['user', user], ['database', 'dev'], ['application_name', '']]);
  const padded = startupMessage([['user', user], ['database', 'dev'], ['application_name', 'a'.repeat(length - bare.length)]]);
  expect(padded.length).toBe(length);
  return padded;
}

async function exchange(port: number, bytes: Buffer, waitMs: number): Promise<{ conn: RawConnection; ms: number }> {
  const conn = await RawConnection.open(port);
  const started = Date.now();
  conn.write(bytes);
  await conn.waitFor((d) => scanBackend(d).messages.some((m) => m.type === 'E' || m.type === 'Z'), waitMs);
  await conn.waitClose(200);
  return { conn, ms: Date.now() - started };
}

describe('startup packet size', () => {
  it('accepts a startup packet well under the limit (9 KB) and logs in', async () => {
    const { conn } = await exchange(stack.port, startupOfLength('under-limit', 9_000), 10_000);
    const stream = scanBackend(conn.data);
    conn.destroy();
    expect(errorsIn(stream)).toEqual([]);
    expect(stream.messages.some((m) => m.type === 'Z')).toBe(true);
  });

  it(`a packet of exactly ${MAX_STARTUP_PACKET} bytes either logs in or is refused for its size — never blamed on the cluster`, async () => {
    // The proxy rewrites the user name (analyst → IAMA:analyst) before passing the parameters on; PostgreSQL (and
    // Redshift) drop a startup packet over 10,000 bytes without a word. A packet the proxy accepted must not turn
    // into "Redshift closed the connection during login — the cluster may be restarting".
    const { conn } = await exchange(stack.port, startupOfLength('at-limit', MAX_STARTUP_PACKET), 10_000);
    const stream = scanBackend(conn.data);
    conn.destroy();
    const [error] = errorsIn(stream);
    if (error) {
      expect(error.C).toMatch(/^(08P01|54000)$/);
      expect(error.M).toMatch(/long|exceeds|limit/);
    } else {
      expect(stream.messages.some((m) => m.type === 'Z')).toBe(true);
    }
  });

  // Issue 21: as PostgreSQL ("invalid length of startup packet", logged only), one byte more closes the connection
  // without a word — before any AWS call. Before, the proxy answered FATAL 08P01 with the limit; a client that sent
  // Terminate ahead of its startup packet (node-postgres' connect() then end()) crashed on that answer.
  it(`closes on one byte more without a word, as PostgreSQL does — before any AWS call`, async () => {
    const calls = stack.emulator.calls.GetClusterCredentials;
    const { conn } = await exchange(stack.port, startupOfLength('over-limit', MAX_STARTUP_PACKET + 1), 3_000);
    expect(conn.closedByServer).toBe(true);
    expect(conn.data.length).toBe(0);
    conn.destroy();
    expect(stack.emulator.calls.GetClusterCredentials).toBe(calls);
  });

  it('closes on a length word announcing 1 GB at once, without waiting for the bytes', async () => {
    const header = Buffer.alloc(8);
    header.writeInt32BE(1 << 30, 0);
    header.writeInt32BE(0x0003_0000, 4);
    const { conn, ms } = await exchange(stack.port, header, 3_000);
    expect(conn.closedByServer).toBe(true);
    expect(conn.data.length).toBe(0);
    conn.destroy();
    expect(ms).toBeLessThan(1_000);
  });

  it('queries pipelined behind the startup packet wait (backpressure) and are all answered after a slow login', async () => {
    stack.emulator.setDelay(1_000);
    try {
      const n = 200;
      const pile = Buffer.concat(Array.from({ length: n }, (_, i) => query(`select 'p${i}-${'x'.repeat(500)}' as v`)));
      const conn = await RawConnection.open(stack.port);
      conn.write(Buffer.concat([startupMessage([['user', 'pipeliner'], ['database', 'dev']]), pile]));
      const ready = (d: Buffer): number => scanBackend(d).messages.filter((m) => m.type === 'Z').length;
      // One ReadyForQuery for the login, one per query.
      expect(await conn.waitFor((d) => ready(d) >= n + 1, 15_000)).toBe(true);
      const stream = scanBackend(conn.data);
      conn.destroy();
      expect(errorsIn(stream)).toEqual([]);
      const values = stream.messages.filter((m) => m.type === 'D').map((m) => m.body.toString('utf8', 6, 6 + m.body.readInt32BE(2)));
      expect(values.map((v) => v.split('-')[0])).toEqual(Array.from({ length: n }, (_, i) => `p${i}`));
    } finally {
      stack.emulator.setDelay(0);
    }
  });
});

describe('time to complete startup and login', () => {
  it('a slow AWS API: 08001 "took longer" at the startup limit, not when AWS finally answers', async () => {
    stack.emulator.setDelay(STARTUP_TIMEOUT_MS * 3);
    try {
      const started = Date.now();
      const r = await refusal(quickPort, 'slow-aws');
      const ms = Date.now() - started;
      expect(r).toMatchObject({ code: '08001', severity: 'FATAL' });
      expect(r.message).toMatch(new RegExp(`took longer than ${STARTUP_TIMEOUT_MS} ms`));
      expect(r.hint).toMatch(/--startup-timeout/);
      expect(ms).toBeGreaterThanOrEqual(STARTUP_TIMEOUT_MS - 50);
      expect(ms).toBeLessThan(STARTUP_TIMEOUT_MS + SLACK_MS);
    } finally {
      stack.emulator.setDelay(0);
    }
  });

  it('a client trickling its startup packet a byte at a time is cut off at the limit (total time, not idle time)', async () => {
    const packet = startupMessage([['user', 'trickler'], ['database', 'dev'], ['application_name', 'x'.repeat(200)]]);
    const conn = await RawConnection.open(quickPort);
    const started = Date.now();
    let sent = 0;
    const trickle = setInterval(() => {
      if (sent < packet.length) conn.write(packet.subarray(sent, ++sent));
    }, 50);
    try {
      expect(await conn.waitClose(STARTUP_TIMEOUT_MS + SLACK_MS)).toBe(true);
    } finally {
      clearInterval(trickle);
    }
    const ms = Date.now() - started;
    const [error] = errorsIn(scanBackend(conn.data));
    conn.destroy();
    expect(sent).toBeLessThan(packet.length);
    expect(error).toMatchObject({ S: 'FATAL', C: '08P01' });
    expect(error?.M).toMatch(new RegExp(`within ${STARTUP_TIMEOUT_MS} ms`));
    expect(ms).toBeLessThan(STARTUP_TIMEOUT_MS + SLACK_MS);
  });
});

describe('hundreds of connections at once', () => {
  it('stalled, idle and garbage-sending connections do not starve a real client', async () => {
    const open: RawConnection[] = [];
    const stalled = 300;
    const idle = 100;
    try {
      // 300 that send half a startup packet and then nothing; 100 logged in and idle.
      await runPool(Array.from({ length: stalled }, (_, i) => i), 50, async (i) => {
        const c = await RawConnection.open(stack.port);
        open.push(c);
        c.write(startupMessage([['user', `staller${i}`], ['database', 'dev']]).subarray(0, 12));
      });
      await runPool(Array.from({ length: idle }, (_, i) => i), 25, async () => {
        const c = await RawConnection.open(stack.port);
        open.push(c);
        c.write(startupMessage([['user', 'idler'], ['database', 'dev']]));
        expect(await c.waitFor((d) => scanBackend(d).messages.some((m) => m.type === 'Z'), 10_000)).toBe(true);
      });
      // 50 more keep throwing garbage while the real client works.
      let storming = true;
      const storm = runPool(Array.from({ length: 50 }, (_, i) => i), 50, async () => {
        while (storming) {
          const c = await RawConnection.open(stack.port);
          c.write(randomBytes(2_000));
          await c.waitClose(1_000);
          c.destroy();
        }
      });
      const started = Date.now();
      const rows = await withClient(stack.port, 'not-starved', async (c) => {
        const out: string[] = [];
        for (let i = 0; i < 20; i++) out.push((await c.query('select $1::text as v', [`q${i}`])).rows[0].v as string);
        return out;
      });
      const ms = Date.now() - started;
      storming = false;
      await storm;
      expect(rows).toEqual(Array.from({ length: 20 }, (_, i) => `q${i}`));
      console.log(`limits: with ${stalled} stalled, ${idle} idle and 50 garbage connections open, a client logged in and ran 20 queries in ${ms} ms`);
      expect(ms).toBeLessThan(5_000);
      expect(stack.proxy.listeners[0]?.activeConnections).toBeGreaterThanOrEqual(stalled + idle);
    } finally {
      for (const c of open) c.destroy();
    }
    await expect.poll(() => stack.proxy.listeners[0]?.activeConnections, { timeout: 10_000 }).toBe(0);
  });
});
