/**
 * The cache's promise measured through the proxy: one API call per identity per credential lifetime, whatever
 * the number of connections; every call reported (count, latency, failures) to the metrics callback and counted in
 * the cache's snapshot.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ApiCallEvent } from '../../src/credentials/credential-cache.js';
import { withClient } from '../support/clients.js';
import { refusal } from '../support/refusals.js';
import { startStack } from '../support/stack.js';
import type { Stack } from '../support/stack.js';

let stack: Stack;

beforeAll(async () => {
  stack = await startStack();
});

afterAll(async () => {
  await stack?.stop();
});

beforeEach(() => {
  stack.emulator.resetCounters();
  stack.emulator.setDelay(0);
});

const currentUser = (port: number, user: string): Promise<string> =>
  withClient(port, user, async (c) => (await c.query('select current_user as u')).rows[0].u as string);

async function proxyWithEvents(): Promise<{ port: number; events: ApiCallEvent[]; stats: () => ReturnType<Stack['proxy']['cache']['stats']> }> {
  const events: ApiCallEvent[] = [];
  const p = await stack.startProxy({}, {}, { onApiCall: (e) => events.push(e), backoffBaseMs: 5 });
  return { port: p.addresses[0]?.port as number, events, stats: () => p.cache.stats() };
}

describe('one API call per identity per credential lifetime', () => {
  it('200 connections from 20 concurrent clients for one identity make exactly 1 API call', { timeout: 120_000 }, async () => {
    const { port, events, stats } = await proxyWithEvents();
    // The API answers slowly, so the first wave of 20 connections all miss together and must share one call.
    stack.emulator.setDelay(100);
    const clients = Array.from({ length: 20 }, async () => {
      const users: string[] = [];
      for (let i = 0; i < 10; i++) users.push(await currentUser(port, 'crowd'));
      return users;
    });
    const users = (await Promise.all(clients)).flat();
    expect(users).toHaveLength(200);
    expect(new Set(users)).toEqual(new Set(['IAMA:crowd']));
    expect(stack.emulator.calls.GetClusterCredentials).toBe(1);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ ok: true, background: false });
    expect(events[0]?.durationMs).toBeGreaterThanOrEqual(100);
    const s = stats();
    expect(s).toMatchObject({ apiCalls: 1, apiFailures: 0, identities: 1, credentials: 1, rateLimited: 0 });
    expect(s.hits + s.misses).toBe(200);
    expect(s.misses - s.sharedWaits).toBe(1); // exactly one miss started a call; the others joined it
    expect(s.apiCallMsTotal).toBeGreaterThanOrEqual(100);
  });

  it('two identities make two calls, each shared by its own connections', async () => {
    const { port, events } = await proxyWithEvents();
    await Promise.all(['ann', 'ben', 'ann', 'ben', 'ann', 'ben'].map((u) => currentUser(port, u)));
    expect(stack.emulator.calls.GetClusterCredentials).toBe(2);
    expect(new Set(events.map((e) => e.key)).size).toBe(2);
  });
});

describe('API calls reported for metrics', () => {
  it('a throttled call then a good one: two events, one failure counted, the client never sees the throttle', async () => {
    const { port, events, stats } = await proxyWithEvents();
    stack.emulator.inject({ action: 'GetClusterCredentials', error: 'Throttling', times: 1 });
    expect(await currentUser(port, 'retried')).toBe('IAMA:retried');
    expect(events.map((e) => [e.ok, e.errorName])).toEqual([[false, 'Throttling'], [true, undefined]]);
    expect(stats()).toMatchObject({ apiCalls: 2, apiFailures: 1 });
  });

  it('a refusal is one failed event with the error name, and is not retried', async () => {
    const { port, events, stats } = await proxyWithEvents();
    stack.emulator.inject({ action: 'GetClusterCredentials', times: 1,
      error: { code: 'AccessDenied', status: 403, message: 'User: arn:aws:iam::123456789012:user/ci is not authorized to perform: redshift:GetClusterCredentials on resource: arn:aws:redshift:us-east-1:123456789012:dbuser:test-cluster/denied' } });
    const err = await refusal(port, 'denied');
    expect(err.code).toBe('28000');
    expect(events).toEqual([expect.objectContaining({ ok: false, errorName: 'AccessDenied', background: false })]);
    expect(stats()).toMatchObject({ apiCalls: 1, apiFailures: 1, credentials: 0 });
  });
});
