/**
 * The upstream host's addresses, looked up once and shared by its connections for a few seconds.
 *
 * `net.connect` to a host name asks getaddrinfo, on libuv's thread pool, for every connection: 0.7–2 ms of a
 * ~12 ms login on loopback, the largest cost the proxy added to a connect. Only the address is cached — TLS still
 * checks the certificate against the host *name* (connect-tls.ts passes it as `host` and `servername`), so a cached
 * address never lets a certificate for another name through.
 *
 * - An answer is used for at most `ttlMs`. Past half of that, the next connection starts a lookup in the background
 *   and goes on with the answer it has: steady traffic never waits for DNS, and a changed record (a relocated or
 *   restored cluster) is picked up within the TTL.
 * - A connection that fails forgets the answer (`forget`), so the next one looks the name up again.
 * - A failed lookup is not remembered; concurrent lookups of one name share one call.
 * - Entries are per host name (and lookup options), and one cache serves one endpoint: it holds one or two entries.
 */
import dns from 'node:dns';
import type { LookupAddress, LookupAllOptions, LookupOptions } from 'node:dns';
import type { LookupFunction } from 'node:net';

/** Every address of a name, as `dns.lookup(host, { all: true, … })` gives them. */
export type ResolveAll = (host: string, options: LookupAllOptions) => Promise<LookupAddress[]>;

export interface AddressCacheOptions {
  /** How long an answer is used (default ADDRESS_TTL_MS). */
  readonly ttlMs?: number;
  /** The lookup (default: the system resolver through dns.lookup, as net.connect does). */
  readonly resolveAll?: ResolveAll;
  /** Monotonic milliseconds (default performance.now). */
  readonly now?: () => number;
}

/**
 * Ten seconds: far below the minutes a failover takes to be announced, far above the time a burst of logins
 * (a BI tool opening its pool) needs to share one lookup.
 */
export const ADDRESS_TTL_MS = 10_000;

interface Answer {
  readonly addresses: LookupAddress[];
  readonly at: number;
}

export class AddressCache {
  private readonly answers = new Map<string, Answer>();
  private readonly pending = new Map<string, Promise<LookupAddress[]>>();
  private readonly ttlMs: number;
  private readonly resolveAll: ResolveAll;
  private readonly now: () => number;

  constructor(options: AddressCacheOptions = {}) {
    this.ttlMs = options.ttlMs ?? ADDRESS_TTL_MS;
    this.resolveAll = options.resolveAll ?? ((host, o) => dns.promises.lookup(host, o));
    this.now = options.now ?? (() => performance.now());
  }

  /**
   * For net.connect's `lookup` option: answers as dns.lookup would (an array with `all`, else the first address of
   * the family asked for), from the cache when it can.
   */
  readonly lookup: LookupFunction = (host, options, callback) => {
    const key = keyOf(host, options);
    const answer = this.answers.get(key);
    const age = answer ? this.now() - answer.at : Infinity;
    if (answer && age < this.ttlMs) {
      if (age >= this.ttlMs / 2) this.refresh(host, key, options).catch(() => undefined);
      // Asynchronously, as net.connect treats an IP literal: the socket's listeners are attached by then.
      process.nextTick(() => answerWith(answer.addresses, options, callback));
      return;
    }
    this.refresh(host, key, options).then(
      (addresses) => answerWith(addresses, options, callback),
      (err: NodeJS.ErrnoException) => callback(err, options.all === true ? [] : ''),
    );
  };

  /** Drops what is known about `host`, so the next connection looks it up again. */
  forget(host: string): void {
    for (const key of this.answers.keys()) if (key.endsWith(`|${host}`)) this.answers.delete(key);
  }

  private refresh(host: string, key: string, options: LookupOptions): Promise<LookupAddress[]> {
    const inflight = this.pending.get(key);
    if (inflight) return inflight;
    const p = this.resolveAll(host, { family: options.family, hints: options.hints, all: true })
      .then((addresses) => {
        if (addresses.length > 0) this.answers.set(key, { addresses, at: this.now() });
        return addresses;
      })
      .finally(() => this.pending.delete(key));
    this.pending.set(key, p);
    return p;
  }
}

function keyOf(host: string, options: LookupOptions): string {
  return `${String(options.family ?? 0)}|${options.hints ?? 0}|${host}`;
}

function answerWith(addresses: LookupAddress[], options: LookupOptions,
  callback: Parameters<LookupFunction>[2]): void {
  if (options.all === true) {
    callback(null, addresses);
    return;
  }
  const family = options.family === 'IPv4' ? 4 : options.family === 'IPv6' ? 6 : options.family ?? 0;
  const first = addresses.find((a) => family === 0 || a.family === family);
  if (!first) {
    callback(Object.assign(new Error(`no IPv${family} address`), { code: 'ENOTFOUND' }), '');
    return;
  }
  callback(null, first.address, first.family);
}
