/**
 * Cancels, from point 8 of issue 18, as the attacks:
 * - junk CancelRequests starved real ones: a global 100/s budget was charged before the key was looked up, so at
 *   ~700 junk/s none of 10 real cancels got through. Now a cancel is judged by its key first.
 * - queries kept running upstream after the shutdown grace: the proxy held their cancel keys and sent none. Now
 *   what still runs when the grace ends is cancelled before the sessions are closed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import net from 'node:net';
import { randomInt } from 'node:crypto';
import pg from 'pg';
import { startStack } from '../support/stack.js';
import type { Stack } from '../support/stack.js';

let stack: Stack;

beforeAll(async () => {
  stack = await startStack();
});

afterAll(async () => {
  await stack?.stop();
});

/** A CancelRequest (length 16, code 80877102, process id, secret) on its own connection, as libpq sends it. */
function sendCancel(port: number, processId: number, secretKey: number): Promise<void> {
  return new Promise((resolve) => {
    const packet = Buffer.alloc(16);
    packet.writeInt32BE(16, 0);
    packet.writeInt32BE(80877102, 4);
    packet.writeInt32BE(processId, 8);
    packet.writeInt32BE(secretKey, 12);
    const socket = net.connect({ host: '127.0.0.1', port }, () => socket.end(packet));
    socket.on('error', () => resolve());
    socket.on('close', () => resolve());
    socket.resume();
  });
}

interface Keyed {
  processID: number;
  secretKey: number;
}

async function sleepers(port: number, user: string, n: number): Promise<Array<{ client: pg.Client; outcome: Promise<string> }>> {
  return Promise.all(Array.from({ length: n }, async () => {
    const client = new pg.Client({ host: '127.0.0.1', port, user, database: 'dev' });
    client.on('error', () => undefined);
    await client.connect();
    const outcome = client.query('select pg_sleep(30)').then(() => 'finished', (err: { code?: string }) => err.code ?? 'error');
    return { client, outcome };
  }));
}

async function runningSleeps(user: string): Promise<number> {
  const rows = await stack.bed.superuserQuery<{ n: string }>(
    "select count(*) as n from pg_stat_activity where usename = $1 and state = 'active' and query like 'select pg_sleep%'", [`IAMA:${user}`]);
  return Number(rows[0]?.n ?? 0);
}

async function until(check: () => Promise<boolean>, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check()) && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
}

describe('cancel requests', () => {
  it('10 real cancels all work under ~700 junk cancels a second from the same address', async () => {
    const port = stack.port;
    const sessions = await sleepers(port, 'cancelled', 10);
    await until(async () => (await runningSleeps('cancelled')) === 10, 5_000);
    expect(await runningSleeps('cancelled')).toBe(10);
    let flooding = true;
    let junk = 0;
    const floodStarted = Date.now();
    const flood = (async () => {
      while (flooding) {
        const started = Date.now();
        await Promise.all(Array.from({ length: 10 }, () => {
          junk++;
          return sendCancel(port, randomInt(1, 2 ** 31 - 1), randomInt(-(2 ** 31), 2 ** 31 - 1));
        }));
        await new Promise((r) => setTimeout(r, Math.max(0, 10 - (Date.now() - started))));
      }
    })();
    await new Promise((r) => setTimeout(r, 1_000));
    const before = junk;
    for (const s of sessions) {
      const k = s.client as unknown as Keyed;
      await sendCancel(port, k.processID, k.secretKey);
    }
    const outcomes = await Promise.race([
      Promise.all(sessions.map((s) => s.outcome)),
      new Promise<string[]>((r) => setTimeout(() => r(['timed out']), 10_000)),
    ]);
    flooding = false;
    await flood;
    const rate = Math.round(junk / ((Date.now() - floodStarted) / 1_000));
    console.log(`cancels: ${junk} junk cancels at ${rate}/s (${before} before the real ones); real ones: ${outcomes.join(', ')}`);
    // Well above the old global budget of 100 a second, which junk used to spend before any key was looked up.
    expect(rate).toBeGreaterThan(250);
    expect(outcomes).toEqual(Array(10).fill('57014'));
    await Promise.all(sessions.map((s) => s.client.end().catch(() => undefined)));
  });

  it('queries still running when the shutdown grace ends are cancelled upstream, not left running', async () => {
    const proxy = await stack.startProxy();
    const port = proxy.addresses[0]?.port as number;
    const sessions = await sleepers(port, 'at-shutdown', 3);
    await until(async () => (await runningSleeps('at-shutdown')) === 3, 5_000);
    expect(await runningSleeps('at-shutdown')).toBe(3);
    await proxy.close(300);
    // Cancelled: the server ends them now, not in 30 s when pg_sleep returns.
    await until(async () => (await runningSleeps('at-shutdown')) === 0, 3_000);
    expect(await runningSleeps('at-shutdown')).toBe(0);
    await Promise.all(sessions.map((s) => s.outcome));
  });
});
