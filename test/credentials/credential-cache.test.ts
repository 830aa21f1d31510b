import { describe, expect, it } from 'vitest';
import { CredentialCache, NewIdentityRateLimitedError, RateLimitedError } from '../../src/credentials/credential-cache.js';
import { DbCredential } from '../../src/credentials/db-credential.js';
import { backoffMs } from '../../src/credentials/retry-policy.js';
import { inspect } from 'node:util';
import { FakeClock, settle } from '../support/fake-clock.js';

// The cache's fetcher is the CredentialSource edge; here a counting function stands in for the API so the cache
// policy can be checked alone, on a fake clock. The real SDK against the emulator is exercised in the end-to-end
// tests.
function counter(clock: FakeClock, lifetimeMs: number, failures: string[] = []) {
  let calls = 0;
  const fetcher = async () => {
    calls++;
    await settle();
    const f = failures.shift();
    if (f) throw Object.assign(new Error(f), { name: f, $metadata: { httpStatusCode: 400 } });
    return new DbCredential('IAM:u', `pw${calls}`, new Date(clock.now() + lifetimeMs), new Date(clock.now()));
  };
  return { fetcher, calls: () => calls };
}

/** Runs `promise` to its end while the fake clock moves in small steps (for retries with backoff). */
async function withTime<T>(clock: FakeClock, promise: Promise<T>, stepMs = 50, maxMs = 60_000): Promise<T> {
  let done = false;
  const watched = promise.finally(() => {
    done = true;
  });
  watched.catch(() => undefined);
  for (let t = 0; !done && t < maxMs; t += stepMs) await clock.advance(stepMs);
  return watched;
}

describe('CredentialCache', () => {
  it('shares one API call among concurrent misses and reuses the credential', async () => {
    const clock = new FakeClock();
    const cache = new CredentialCache({ clock });
    const c = counter(clock, 60_000);
    const creds = await Promise.all(Array.from({ length: 50 }, () => cache.get('k', c.fetcher)));
    expect(new Set(creds).size).toBe(1);
    await cache.get('k', c.fetcher);
    expect(c.calls()).toBe(1);
    cache.close();
  });

  it('absorbs a burst of three throttling answers', async () => {
    const clock = new FakeClock();
    const cache = new CredentialCache({ clock });
    const c = counter(clock, 60_000, ['ThrottlingException', 'ThrottlingException', 'ThrottlingException']);
    const cred = await withTime(clock, cache.get('k', c.fetcher));
    expect(cred.password).toBe('pw4');
    expect(c.calls()).toBe(4);
    cache.close();
  });

  it('does not retry a refusal', async () => {
    const clock = new FakeClock();
    const cache = new CredentialCache({ clock });
    const c = counter(clock, 60_000, ['AccessDenied']);
    await expect(cache.get('k', c.fetcher)).rejects.toMatchObject({ name: 'AccessDenied' });
    expect(c.calls()).toBe(1);
    cache.close();
  });

  it('fetches again shortly before the returned expiration, not after the requested duration', async () => {
    const clock = new FakeClock();
    const cache = new CredentialCache({ clock });
    const c = counter(clock, 15 * 60_000);
    const first = await cache.get('k', c.fetcher);
    await clock.advance(13 * 60_000);
    expect(await cache.get('k', c.fetcher)).toBe(first);
    await clock.advance(60_000 + 1); // within the last minute (a tenth of 15, at most one): not reused
    const second = await cache.get('k', c.fetcher);
    expect(second).not.toBe(first);
    expect(c.calls()).toBe(2);
    cache.close();
  });

  it('refreshes an identity in use in the background, so callers do not wait', async () => {
    const clock = new FakeClock();
    const cache = new CredentialCache({ clock });
    let calls = 0;
    let release: (() => void) | undefined;
    const fetcher = async () => {
      calls++;
      // The refresh (second call) hangs until released: callers meanwhile must get the current credential.
      if (calls === 2) await new Promise<void>((r) => { release = r; });
      return new DbCredential('IAM:u', `pw${calls}`, new Date(clock.now() + 2_000), new Date(clock.now()));
    };
    await cache.get('k', fetcher);
    await clock.advance(20);
    await cache.get('k', fetcher); // used after it was obtained: in use
    await clock.advance(1_500); // the refresh point (1.5 s of 2)
    expect(calls).toBe(2);
    const during = await cache.get('k', fetcher); // resolves although the refresh is still hanging
    expect(during.password).toBe('pw1');
    release?.();
    await settle();
    expect((await cache.get('k', fetcher)).password).toBe('pw2');
    expect(calls).toBe(2);
    cache.close();
  });

  it('forgets an identity nobody used', async () => {
    const clock = new FakeClock();
    const cache = new CredentialCache({ clock });
    const c = counter(clock, 200);
    await cache.get('k', c.fetcher);
    await clock.advance(61_000);
    expect(cache.expiries()).toHaveLength(0);
    expect(cache.size).toBe(0);
    expect(c.calls()).toBe(1);
    cache.close();
  });

  it('bounds the successful calls per minute per key', async () => {
    const clock = new FakeClock();
    const cache = new CredentialCache({ clock, maxCallsPerMinute: 2 });
    const c = counter(clock, 1);
    await cache.get('k', c.fetcher);
    await clock.advance(5);
    await cache.get('k', c.fetcher);
    await clock.advance(5);
    await expect(cache.get('k', c.fetcher)).rejects.toBeInstanceOf(RateLimitedError);
    await clock.advance(60_000);
    await expect(cache.get('k', c.fetcher)).resolves.toBeInstanceOf(DbCredential);
    cache.close();
  });

  it('lets one waiter give up without cancelling the shared call', async () => {
    const clock = new FakeClock();
    const cache = new CredentialCache({ clock });
    const c = counter(clock, 60_000);
    const ac = new AbortController();
    const a = cache.get('k', c.fetcher, ac.signal);
    const b = cache.get('k', c.fetcher);
    ac.abort(new Error('gone'));
    await expect(a).rejects.toThrow('gone');
    await expect(b).resolves.toBeInstanceOf(DbCredential);
    cache.close();
  });

  it('abandons an attempt that hangs past its deadline, on the cache\'s clock', async () => {
    const clock = new FakeClock();
    const cache = new CredentialCache({ clock, attemptTimeoutMs: 1_000, attempts: 1 });
    const hanging = (signal: AbortSignal) => new Promise<DbCredential>((_, reject) => {
      signal.addEventListener('abort', () => reject(new Error('aborted')));
    });
    const p = cache.get('k', hanging);
    p.catch(() => undefined);
    await clock.advance(1_000);
    await expect(p).rejects.toMatchObject({ name: 'TimeoutError' });
    cache.close();
  });
});

describe('CredentialCache bounds (issue 18 finding 7)', () => {
  it('12,000 user names: the identities known stay at the bound and the API calls at the pace of new identities', async () => {
    const clock = new FakeClock();
    const cache = new CredentialCache({ clock, maxIdentities: 500, newIdentitiesPerSecond: 10, newIdentityBurst: 20 });
    let calls = 0;
    const fetcher = async () => {
      calls++;
      return new DbCredential('IAM:u', 'pw', new Date(clock.now() + 15 * 60_000), new Date(clock.now()));
    };
    let paced = 0;
    let lastServed = '';
    // 12,000 names over 20 s (600 a second): what a client inventing names can send.
    for (let i = 0; i < 12_000; i++) {
      if (i % 30 === 0) await clock.advance(50);
      try {
        await cache.get(`user-${i}`, fetcher);
        lastServed = `user-${i}`;
      } catch (err) {
        expect(err).toBeInstanceOf(NewIdentityRateLimitedError);
        paced++;
      }
      expect(cache.size).toBeLessThanOrEqual(500);
    }
    expect(cache.size).toBe(500);
    // 20 at once, then 10 a second for 20 s.
    expect(calls).toBeLessThanOrEqual(20 + 10 * 20 + 1);
    expect(paced).toBe(12_000 - calls);
    expect(cache.stats().evicted).toBeGreaterThan(0);
    // A known identity is not paced: it keeps its credential while new names are refused.
    const before = calls;
    await expect(cache.get(lastServed, fetcher)).resolves.toBeInstanceOf(DbCredential);
    expect(calls).toBe(before);
    cache.close();
  });

  it('names that fail are remembered briefly (no call meanwhile), are bounded too, and are forgotten', async () => {
    const clock = new FakeClock();
    const cache = new CredentialCache({ clock, maxIdentities: 100, failureTtlMs: 2_000, newIdentitiesPerSecond: 1_000, newIdentityBurst: 1_000 });
    let calls = 0;
    const denied = async (): Promise<DbCredential> => {
      calls++;
      throw Object.assign(new Error('denied'), { name: 'AccessDenied', $metadata: { httpStatusCode: 403 } });
    };
    for (let i = 0; i < 300; i++) await expect(cache.get(`bad-${i}`, denied)).rejects.toMatchObject({ name: 'AccessDenied' });
    expect(calls).toBe(300);
    expect(cache.size).toBe(100);
    // Within the failure's time: answered from memory.
    await expect(cache.get('bad-299', denied)).rejects.toMatchObject({ name: 'AccessDenied' });
    expect(calls).toBe(300);
    expect(cache.stats().failuresReplayed).toBe(1);
    await clock.advance(2_000);
    await expect(cache.get('bad-299', denied)).rejects.toMatchObject({ name: 'AccessDenied' });
    expect(calls).toBe(301);
    // Nobody asks again: the memory goes.
    await clock.advance(61_000);
    expect(cache.size).toBe(0);
    expect(clock.pending).toBe(0);
    cache.close();
  });

  it('a failure of the proxy\'s own AWS identity (no API answer, e.g. an expired SSO session) is not remembered: fixed, the next get calls', async () => {
    const clock = new FakeClock();
    const cache = new CredentialCache({ clock });
    let expired = true;
    const fetcher = async (): Promise<DbCredential> => {
      if (expired) throw Object.assign(new Error('the SSO session has expired'), { name: 'CredentialsProviderError' });
      return new DbCredential('IAM:u', 'pw', new Date(clock.now() + 15 * 60_000), new Date(clock.now()));
    };
    await expect(cache.get('k', fetcher)).rejects.toMatchObject({ name: 'CredentialsProviderError' });
    expired = false;
    await expect(cache.get('k', fetcher)).resolves.toBeInstanceOf(DbCredential);
    cache.close();
  });

  it('recovers from throttling as soon as AWS answers again: each later miss is one probe, no minute to wait out', async () => {
    const clock = new FakeClock();
    // The product's per-key bound (10 a minute) — before, a throttled run spent it and connects stayed refused ~60 s.
    const cache = new CredentialCache({ clock, failureTtlMs: 1_000 });
    let throttling = true;
    let calls = 0;
    const fetcher = async (): Promise<DbCredential> => {
      calls++;
      if (throttling) throw Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException', $metadata: { httpStatusCode: 400 } });
      return new DbCredential('IAM:u', 'pw', new Date(clock.now() + 15 * 60_000), new Date(clock.now()));
    };
    for (let i = 0; i < 5; i++) {
      await expect(withTime(clock, cache.get('k', fetcher))).rejects.toMatchObject({ name: 'ThrottlingException' });
      await clock.advance(1_000);
    }
    // One run of five attempts, then one probe per miss.
    expect(calls).toBe(5 + 4);
    throttling = false;
    const cred = await cache.get('k', fetcher);
    expect(cred).toBeInstanceOf(DbCredential);
    expect(calls).toBe(10);
    cache.close();
  });
});

describe('secrets', () => {
  it('a credential never shows its password in JSON or inspect output', () => {
    const cred = new DbCredential('IAM:u', 'sekrit-password', new Date());
    expect(JSON.stringify(cred)).not.toContain('sekrit');
    expect(inspect(cred)).not.toContain('sekrit');
    expect(cred.password).toBe('sekrit-password');
  });
});

describe('backoff', () => {
  it('is jittered, exponential and capped', () => {
    expect(backoffMs(0, 100, 1000, () => 1)).toBe(100);
    expect(backoffMs(3, 100, 1000, () => 1)).toBe(800);
    expect(backoffMs(10, 100, 1000, () => 1)).toBe(1000);
    expect(backoffMs(3, 100, 1000, () => 0)).toBe(1);
  });
});
