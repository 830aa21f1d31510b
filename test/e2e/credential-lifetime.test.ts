/**
 * Credentials that expire in seconds: connections keep succeeding across expiry, they share a handful of API
 * calls, and a session opened before expiry keeps working after it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pgClient, withClient } from '../support/clients.js';
import { startStack } from '../support/stack.js';
import type { Stack } from '../support/stack.js';

let stack: Stack;

beforeAll(async () => {
  stack = await startStack({ lifetimeSeconds: 4 });
});

afterAll(async () => {
  await stack?.stop();
});

describe('a 4-second credential lifetime', () => {
  // First, while no other identity is in use: the injected answers go to the first calls of any identity.
  it('absorbs three throttling answers in a row without the client noticing', async () => {
    stack.emulator.resetCounters();
    stack.emulator.inject({ action: 'GetClusterCredentials', error: 'Throttling', times: 3 });
    const u = await withClient(stack.port, 'throttled', async (c) => (await c.query('select current_user as u')).rows[0].u as string);
    expect(u).toBe('IAMA:throttled');
    expect(stack.emulator.callLog.filter((c) => c.params.DbUser === 'throttled')).toHaveLength(4);
  });

  it('20 connections over 20 seconds all succeed on a handful of API calls; an old session outlives its credential', async () => {
    const early = pgClient(stack.port, 'longlived');
    await early.connect();
    const firstExpiry = await stack.bed.superuserQuery(
      "select rolvaliduntil from pg_roles where rolname = 'IAMA:longlived'") as Array<{ rolvaliduntil: Date }>;
    expect(firstExpiry[0]?.rolvaliduntil.getTime()).toBeLessThan(Date.now() + 5_000);

    stack.emulator.resetCounters();
    const results: string[] = [];
    for (let i = 0; i < 20; i++) {
      const started = Date.now();
      results.push(await withClient(stack.port, 'longlived', async (c) => (await c.query('select current_user as u')).rows[0].u as string));
      await new Promise((r) => setTimeout(r, Math.max(0, 1_000 - (Date.now() - started))));
    }
    expect(results).toEqual(Array(20).fill('IAMA:longlived'));
    const calls = stack.emulator.callLog.filter((c) => c.params.DbUser === 'longlived').length;
    // ~20 s of 4 s credentials: about one call per lifetime, not one per connection.
    expect(calls).toBeGreaterThanOrEqual(3);
    expect(calls).toBeLessThanOrEqual(9);

    // The first session's credential expired long ago; the session goes on.
    const r = await early.query('select current_user as u, 1 as one');
    expect(r.rows[0]).toEqual({ u: 'IAMA:longlived', one: 1 });
    await early.end();
  }, 60_000);

  it('concurrent connections for a new identity share one API call', async () => {
    stack.emulator.resetCounters();
    const users = await Promise.all(Array.from({ length: 20 }, () =>
      withClient(stack.port, 'burst', async (c) => (await c.query('select current_user as u')).rows[0].u as string)));
    expect(new Set(users)).toEqual(new Set(['IAMA:burst']));
    // Other identities may refresh in the background meanwhile; count this identity's calls only.
    expect(stack.emulator.callLog.filter((c) => c.params.DbUser === 'burst')).toHaveLength(1);
  });

});
