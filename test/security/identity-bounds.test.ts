/**
 * Finding 7 of issue 18, as the attack: without --db-user or --allowed-users every distinct user name made its own
 * GetClusterCredentials call (4,000 names → 4,000 calls in 25 s, the account-wide API rate other applications
 * share), and failed names stayed in memory. And from point 8: after AWS throttling ended, the proxy's own
 * per-identity window kept connects refused for about a minute. Now new identities' calls are paced, the identities
 * known are bounded, failures are remembered briefly and then probed once, so recovery is immediate.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningProxy } from '../../src/proxy/proxy.js';
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

describe('credential identities under a flood of user names', () => {
  it('150 invented user names at once: API calls at the pace of new identities, the rest refused with 53300 and a hint, memory bounded', async () => {
    const proxy: RunningProxy = await stack.startProxy({}, {}, { maxCallsPerMinute: 10, maxIdentities: 40,
      newIdentitiesPerSecond: 5, newIdentityBurst: 10 });
    const port = proxy.addresses[0]?.port as number;
    stack.emulator.resetCounters();
    const started = Date.now();
    const outcomes = await Promise.all(Array.from({ length: 150 }, async (_, i) => {
      try {
        return await withClient(port, `invented-${i}`, async () => 'in' as const);
      } catch (err) {
        return err as { code?: string; message: string; hint?: string };
      }
    }));
    const seconds = (Date.now() - started) / 1_000;
    const calls = stack.emulator.calls.GetClusterCredentials;
    const refused = outcomes.filter((o) => o !== 'in');
    expect(calls).toBeLessThanOrEqual(10 + Math.ceil(5 * seconds) + 1);
    expect(refused.length).toBeGreaterThanOrEqual(150 - calls);
    for (const r of refused) {
      expect(r).toMatchObject({ code: '53300' });
      expect((r as { message: string }).message).toMatch(/user names the proxy has not seen/);
      expect((r as { hint?: string }).hint).toMatch(/--db-user or --allowed-users/);
    }
    expect(proxy.cache.size).toBeLessThanOrEqual(40);
    await proxy.close();
  });

  it('recovers as soon as AWS stops throttling — with the product\'s per-identity bound, no minute to wait out', async () => {
    const proxy = await stack.startProxy({}, { startupTimeoutMs: 4_000 }, { maxCallsPerMinute: 10, backoffBaseMs: 20,
      failureTtlMs: 500 });
    const port = proxy.addresses[0]?.port as number;
    stack.emulator.resetCounters();
    stack.emulator.inject({ action: 'GetClusterCredentials', error: 'Throttling', times: 1_000 });
    try {
      // Enough refused connects to spend the per-minute bound ten times over, as a client retrying would.
      for (let i = 0; i < 12; i++) {
        const r = await refusal(port, 'throttled-then-back');
        expect(r.code).toBe('08001');
        expect(r.message).toMatch(/throttling/);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    } finally {
      stack.emulator.resetCounters();
    }
    // The next connect probes, and AWS answers.
    const started = Date.now();
    let user: string | undefined;
    while (!user && Date.now() - started < 30_000) {
      user = await withClient(port, 'throttled-then-back', async (c) => (await c.query('select current_user as u')).rows[0].u as string)
        .catch(() => undefined);
      if (!user) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(user).toBe('IAMA:throttled-then-back');
    expect(Date.now() - started).toBeLessThan(2_000);
    await proxy.close();
  });
});
