/**
 * The upstream address cache, through connectTls against the real test bed (TLS, a certificate naming
 * `localhost` and `127.0.0.1` only). The resolver is swapped for one that answers what each test needs, so a name
 * the certificate does not carry can resolve to the bed: caching the address must never relax the host name check.
 */
import type { LookupAddress } from 'node:dns';
import tls from 'node:tls';
import { describe, expect, it } from 'vitest';
import { ClientError } from '../../src/protocol/client-error.js';
import { AddressCache } from '../../src/upstream/address-cache.js';
import type { ResolveAll } from '../../src/upstream/address-cache.js';
import { connectTls, trustStore } from '../../src/upstream/connect-tls.js';
import type { UpstreamEndpoint } from '../../src/upstream/upstream-endpoint.js';
import { useTlsBed } from '../support/tls-bed.js';

const tb = useTlsBed();

/** A resolver answering from `answers` in turn (the last one repeats), recording every name asked for. */
function scripted(...answers: Array<string | Error>): ResolveAll & { asked: string[] } {
  const asked: string[] = [];
  let next = 0;
  const resolve = async (host: string): Promise<LookupAddress[]> => {
    asked.push(host);
    const answer = answers[Math.min(next++, answers.length - 1)] as string | Error;
    if (answer instanceof Error) throw answer;
    return [{ address: answer, family: 4 }];
  };
  return Object.assign(resolve, { asked });
}

function endpoint(host: string, addresses: AddressCache, secureContext = tb.trusted): UpstreamEndpoint {
  return { host, port: tb.bed.port, secureContext, addresses, connectTimeoutMs: 5_000 };
}

async function refusal(p: Promise<tls.TLSSocket>): Promise<ClientError> {
  const err = await p.then((s) => {
    s.destroy();
    return undefined;
  }, (e: unknown) => e);
  expect(err).toBeInstanceOf(ClientError);
  return err as ClientError;
}

describe('the host name check with cached addresses', () => {
  it('refuses a name that resolves to the server but that its certificate does not carry', async () => {
    const resolve = scripted('127.0.0.1');
    const err = await refusal(connectTls(endpoint('not-in-the-certificate.test', new AddressCache({ resolveAll: resolve }))));
    expect(resolve.asked).toEqual(['not-in-the-certificate.test']);
    expect(err.code).toBe('08001');
    expect(err.message).toMatch(/certificate of not-in-the-certificate\.test could not be verified/);
    expect((err.cause as NodeJS.ErrnoException).code).toBe('ERR_TLS_CERT_ALTNAME_INVALID');
  });

  it('still refuses it when the same address is already cached for a name the certificate carries', async () => {
    const resolve = scripted('127.0.0.1');
    const cache = new AddressCache({ resolveAll: resolve });
    (await connectTls(endpoint('localhost', cache))).destroy();
    const err = await refusal(connectTls(endpoint('impostor.test', cache)));
    expect(resolve.asked).toEqual(['localhost', 'impostor.test']);
    expect((err.cause as NodeJS.ErrnoException).code).toBe('ERR_TLS_CERT_ALTNAME_INVALID');
    // The good name is still served, and still verified, from the cache.
    const again = await connectTls(endpoint('localhost', cache));
    expect(again.authorized).toBe(true);
    again.destroy();
    expect(resolve.asked).toEqual(['localhost', 'impostor.test']);
  });

  it('verifies against Node\'s default roots when no CA is added: the test CA is not trusted', async () => {
    const err = await refusal(connectTls(endpoint('localhost', new AddressCache({ resolveAll: scripted('127.0.0.1') }),
      trustStore([]))));
    expect(err.message).toMatch(/certificate of localhost could not be verified/);
  });
});

describe('reuse and renewal', () => {
  it('looks a name up once for many connections within the TTL', async () => {
    const resolve = scripted('127.0.0.1');
    const cache = new AddressCache({ resolveAll: resolve });
    const sockets = await Promise.all([1, 2, 3].map(() => connectTls(endpoint('localhost', cache))));
    const more = await connectTls(endpoint('localhost', cache));
    for (const s of [...sockets, more]) {
      expect(s.authorized).toBe(true);
      s.destroy();
    }
    expect(resolve.asked).toEqual(['localhost']);
  });

  it('renews in the background past half the TTL, and waits for a new answer past the TTL', async () => {
    let now = 0;
    let release: (() => void) | undefined;
    const asked: number[] = [];
    // The second lookup hangs until released: a connection served meanwhile must not wait for it.
    const resolveAll: ResolveAll = async () => {
      asked.push(now);
      if (asked.length === 2) await new Promise<void>((r) => { release = r; });
      return [{ address: '127.0.0.1', family: 4 }];
    };
    const cache = new AddressCache({ ttlMs: 1_000, resolveAll, now: () => now });
    (await connectTls(endpoint('localhost', cache))).destroy();
    now = 600;
    (await connectTls(endpoint('localhost', cache))).destroy();
    expect(asked).toEqual([0, 600]);
    release?.();
    await new Promise((r) => setImmediate(r));
    now = 900; // the renewed answer (from 600) is fresh, not half way through its TTL
    (await connectTls(endpoint('localhost', cache))).destroy();
    expect(asked).toEqual([0, 600]);
    now = 5_000;
    (await connectTls(endpoint('localhost', cache))).destroy();
    expect(asked).toEqual([0, 600, 5_000]);
  });

  it('forgets an address a connection failed on, and a lookup that failed', async () => {
    // Nothing listens on 127.0.0.3 (the bed listens on .1 and .2): the cached answer is stale.
    const notFound = Object.assign(new Error('getaddrinfo ENOTFOUND localhost'), { code: 'ENOTFOUND' });
    const resolve = scripted('127.0.0.3', notFound, '127.0.0.1');
    const cache = new AddressCache({ resolveAll: resolve });
    expect((await refusal(connectTls(endpoint('localhost', cache)))).message).toMatch(/cannot connect to Redshift at localhost:\d+: ECONNREFUSED/);
    expect((await refusal(connectTls(endpoint('localhost', cache)))).message).toMatch(/ENOTFOUND/);
    const socket = await connectTls(endpoint('localhost', cache));
    expect(socket.authorized).toBe(true);
    socket.destroy();
    expect(resolve.asked).toHaveLength(3);
  });
});

describe('lookup, as net.connect calls it', () => {
  const addresses: LookupAddress[] = [{ address: '::1', family: 6 }, { address: '127.0.0.1', family: 4 }];
  const lookup = (cache: AddressCache, options: Parameters<AddressCache['lookup']>[1]): Promise<unknown[]> =>
    new Promise((resolve) => cache.lookup('db.test', options, (...args) => resolve(args)));

  it('answers every address with all, else the first of the family asked for', async () => {
    const cache = new AddressCache({ resolveAll: async () => addresses });
    expect(await lookup(cache, { all: true })).toEqual([null, addresses]);
    expect(await lookup(cache, {})).toEqual([null, '::1', 6]);
    expect(await lookup(cache, { family: 4 })).toEqual([null, '127.0.0.1', 4]);
  });

  it('passes a failed lookup on, with its code', async () => {
    const cache = new AddressCache({ resolveAll: async () => {
      throw Object.assign(new Error('getaddrinfo ENOTFOUND db.test'), { code: 'ENOTFOUND' });
    } });
    const [err] = await lookup(cache, { all: true });
    expect((err as NodeJS.ErrnoException).code).toBe('ENOTFOUND');
  });
});
