import { describe, expect, it } from 'vitest';
import { CredentialCache, RateLimitedError } from '../../src/credentials/credential-cache.js';
import { DbCredential } from '../../src/credentials/db-credential.js';
import { backoffMs } from '../../src/credentials/retry-policy.js';
import { inspect } from 'node:util';

// The cache's fetcher is the CredentialSource edge; here a counting function stands in for the API so the cache
// policy can be checked alone. The real SDK against the emulator is exercised in the end-to-end tests.
function counter(lifetimeMs: number, failures: string[] = []) {
  let calls = 0;
  const fetcher = async () => {
    calls++;
    await new Promise((r) => setTimeout(r, 5));
    const f = failures.shift();
    if (f) throw Object.assign(new Error(f), { name: f, $metadata: { httpStatusCode: 400 } });
    return new DbCredential('IAM:u', `pw${calls}`, new Date(Date.now() + lifetimeMs));
  };
  return { fetcher, calls: () => calls };
}

describe('CredentialCache', () => {
  it('shares one API call among concurrent misses and reuses the credential', async () => {
    const cache = new CredentialCache();
    const c = counter(60_000);
    const creds = await Promise.all(Array.from({ length: 50 }, () => cache.get('k', c.fetcher)));
    expect(new Set(creds).size).toBe(1);
    await cache.get('k', c.fetcher);
    expect(c.calls()).toBe(1);
    cache.close();
  });

  it('absorbs a burst of three throttling answers', async () => {
    const cache = new CredentialCache({ backoffBaseMs: 5 });
    const c = counter(60_000, ['ThrottlingException', 'ThrottlingException', 'ThrottlingException']);
    const cred = await cache.get('k', c.fetcher);
    expect(cred.password).toBe('pw4');
    expect(c.calls()).toBe(4);
    cache.close();
  });

  it('does not retry a refusal', async () => {
    const cache = new CredentialCache({ backoffBaseMs: 5 });
    const c = counter(60_000, ['AccessDenied']);
    await expect(cache.get('k', c.fetcher)).rejects.toMatchObject({ name: 'AccessDenied' });
    expect(c.calls()).toBe(1);
    cache.close();
  });

  it('fetches again shortly before the returned expiration, not after the requested duration', async () => {
    const cache = new CredentialCache();
    const c = counter(300);
    const first = await cache.get('k', c.fetcher);
    await new Promise((r) => setTimeout(r, 320));
    const second = await cache.get('k', c.fetcher);
    expect(second).not.toBe(first);
    expect(c.calls()).toBe(2);
    cache.close();
  });

  it('refreshes an identity in use in the background, so callers do not wait', async () => {
    const cache = new CredentialCache();
    let calls = 0;
    let release: (() => void) | undefined;
    const fetcher = async () => {
      calls++;
      // The refresh (second call) hangs until released: callers meanwhile must get the current credential.
      if (calls === 2) await new Promise<void>((r) => { release = r; });
      return new DbCredential('IAM:u', `pw${calls}`, new Date(Date.now() + 2_000));
    };
    await cache.get('k', fetcher);
    await new Promise((r) => setTimeout(r, 20));
    await cache.get('k', fetcher); // used after it was obtained: in use
    const deadline = Date.now() + 5_000;
    while (calls < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10)); // the refresh point (1.5 s of 2)
    expect(calls).toBe(2);
    const during = await cache.get('k', fetcher); // resolves although the refresh is still hanging
    expect(during.password).toBe('pw1');
    release?.();
    await new Promise((r) => setTimeout(r, 10));
    expect((await cache.get('k', fetcher)).password).toBe('pw2');
    expect(calls).toBe(2);
    cache.close();
  });

  it('forgets an identity nobody used', async () => {
    const cache = new CredentialCache();
    const c = counter(200);
    await cache.get('k', c.fetcher);
    await new Promise((r) => setTimeout(r, 260));
    expect(cache.expiries()).toHaveLength(0);
    expect(c.calls()).toBe(1);
    cache.close();
  });

  it('bounds the calls per minute per key', async () => {
    const cache = new CredentialCache({ maxCallsPerMinute: 2 });
    const c = counter(1);
    await cache.get('k', c.fetcher);
    await new Promise((r) => setTimeout(r, 5));
    await cache.get('k', c.fetcher);
    await new Promise((r) => setTimeout(r, 5));
    await expect(cache.get('k', c.fetcher)).rejects.toBeInstanceOf(RateLimitedError);
    cache.close();
  });

  it('lets one waiter give up without cancelling the shared call', async () => {
    const cache = new CredentialCache();
    const c = counter(60_000);
    const ac = new AbortController();
    const a = cache.get('k', c.fetcher, ac.signal);
    const b = cache.get('k', c.fetcher);
    ac.abort(new Error('gone'));
    await expect(a).rejects.toThrow('gone');
    await expect(b).resolves.toBeInstanceOf(DbCredential);
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
