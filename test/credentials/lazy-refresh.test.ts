/**
 * --lazy-refresh: no background refresh and no timers; a connection that needs a credential when none is fresh
 * fetches it. An eager cache given the same credentials is the clock: once its background refresh has fired, the
 * lazy cache's would have too, had it one.
 */
import { describe, expect, it } from 'vitest';
import { CredentialCache } from '../../src/credentials/credential-cache.js';
import type { ApiCallEvent } from '../../src/credentials/credential-cache.js';
import { DbCredential } from '../../src/credentials/db-credential.js';

const LIFETIME_MS = 900_000;

/** Credentials that reach their refresh point (three quarters into their 900 s: 675 s after arrival) `inMs` from now. */
function nearRefresh(inMs: number) {
  let calls = 0;
  const fetcher = async (): Promise<DbCredential> => {
    calls++;
    const obtained = Date.now() - LIFETIME_MS * 0.75 + inMs;
    return new DbCredential('IAM:u', `pw${calls}`, new Date(obtained + LIFETIME_MS), new Date(obtained));
  };
  return { fetcher, calls: () => calls };
}

describe('lazy refresh', () => {
  it('refreshes nothing in the background, where the eager cache does', async () => {
    let eager: CredentialCache | undefined;
    const background = new Promise<ApiCallEvent>((resolve) => {
      eager = new CredentialCache({ onApiCall: (e) => {
        if (e.background) resolve(e);
      } });
    });
    const lazyEvents: ApiCallEvent[] = [];
    const lazy = new CredentialCache({ lazy: true, onApiCall: (e) => lazyEvents.push(e) });
    const e = nearRefresh(30);
    const l = nearRefresh(30);
    await eager?.get('k', e.fetcher);
    await lazy.get('k', l.fetcher);
    // Used again after arrival, so the eager cache's timer refreshes at the refresh point.
    await eager?.get('k', e.fetcher);
    await lazy.get('k', l.fetcher);
    await background;
    expect(e.calls()).toBe(2);
    expect(l.calls()).toBe(1);
    expect(lazyEvents.every((x) => !x.background)).toBe(true);
    // Past the refresh point a hit still answers from the cache, with no refresh started.
    await lazy.get('k', l.fetcher);
    expect(l.calls()).toBe(1);
    expect(lazy.stats()).toMatchObject({ backgroundRefreshes: 0, hits: 2, misses: 1 });
    eager?.close();
    lazy.close();
  });

  it('fetches when a connection needs a credential and the cached one is no longer fresh', async () => {
    let calls = 0;
    const lazy = new CredentialCache({ lazy: true });
    // 59 s left of 900: inside the last tenth-or-minute, so not fresh.
    const fetcher = async (): Promise<DbCredential> => {
      calls++;
      return new DbCredential('IAM:u', `pw${calls}`, new Date(Date.now() + (calls === 1 ? 59_000 : LIFETIME_MS)),
        new Date(Date.now() - (calls === 1 ? LIFETIME_MS - 59_000 : 0)));
    };
    expect((await lazy.get('k', fetcher)).password).toBe('pw1');
    expect((await lazy.get('k', fetcher)).password).toBe('pw2');
    expect((await lazy.get('k', fetcher)).password).toBe('pw2');
    expect(calls).toBe(2);
    lazy.close();
  });
});
