/**
 * The cache's counter snapshot (CredentialCache.stats), the plain object a metrics exporter reads. The fetcher is
 * the CredentialSource edge; a counting function stands in for the API here, as in credential-cache.test.ts, on a
 * fake clock.
 */
import { describe, expect, it } from 'vitest';
import { CredentialCache, RateLimitedError } from '../../src/credentials/credential-cache.js';
import { DbCredential } from '../../src/credentials/db-credential.js';
import { FakeClock, settle } from '../support/fake-clock.js';

const fetcherFor = (clock: FakeClock, lifetimeMs: number, fail?: string) => async (): Promise<DbCredential> => {
  await settle();
  if (fail) throw Object.assign(new Error(fail), { name: fail, $metadata: { httpStatusCode: 403 } });
  return new DbCredential('IAM:u', 'pw', new Date(clock.now() + lifetimeMs), new Date(clock.now()));
};

describe('CredentialCache.stats', () => {
  it('counts hits, misses, shared waits and API calls with their time', async () => {
    const clock = new FakeClock();
    const cache = new CredentialCache({ clock });
    const f = fetcherFor(clock, 60_000);
    await Promise.all([cache.get('a', f), cache.get('a', f), cache.get('a', f)]);
    await cache.get('a', f);
    await cache.get('b', f);
    const s = cache.stats();
    expect(s).toMatchObject({ identities: 2, credentials: 2, hits: 1, misses: 4, sharedWaits: 2, apiCalls: 2,
      apiFailures: 0, backgroundRefreshes: 0, rateLimited: 0, failuresReplayed: 0, evicted: 0 });
    expect(s.apiCallMsTotal).toBeGreaterThan(0);
    expect(JSON.parse(JSON.stringify(s))).toEqual(s); // a plain object
    cache.close();
  });

  it('counts failures, failures answered from memory, refusals by the per-minute bound and background refreshes', async () => {
    const clock = new FakeClock();
    const cache = new CredentialCache({ clock, maxCallsPerMinute: 1 });
    await expect(cache.get('denied', fetcherFor(clock, 60_000, 'AccessDenied'))).rejects.toMatchObject({ name: 'AccessDenied' });
    await expect(cache.get('denied', fetcherFor(clock, 60_000))).rejects.toMatchObject({ name: 'AccessDenied' });
    expect(cache.stats()).toMatchObject({ apiCalls: 1, apiFailures: 1, failuresReplayed: 1, credentials: 0 });
    await cache.get('once', fetcherFor(clock, 1));
    await clock.advance(5);
    await expect(cache.get('once', fetcherFor(clock, 1))).rejects.toBeInstanceOf(RateLimitedError);
    expect(cache.stats()).toMatchObject({ apiCalls: 2, rateLimited: 1 });

    const refreshing = new CredentialCache({ clock });
    const f = fetcherFor(clock, 2_000);
    await refreshing.get('k', f);
    // Past the refresh point (a quarter of the lifetime before expiry: 1.5 s) and still fresh (until 1.8 s).
    await clock.advance(1_600);
    await refreshing.get('k', f);
    expect(refreshing.stats()).toMatchObject({ hits: 1, backgroundRefreshes: 1 });
    cache.close();
    refreshing.close();
  });
});
