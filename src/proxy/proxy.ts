/**
 * The running proxy: one credential cache shared by every listener, one Target per listener.
 */
import type { AddressInfo } from 'node:net';
import type { Config } from '../config/config.js';
import { CredentialCache } from '../credentials/credential-cache.js';
import type { CredentialCacheOptions } from '../credentials/credential-cache.js';
import type { Logger } from '../ops/logger.js';
import { CancelKeys } from './cancel-keys.js';
import { Listener } from './listener.js';
import { Target } from './target.js';

export interface RunningProxy {
  readonly listeners: readonly Listener[];
  readonly addresses: readonly AddressInfo[];
  readonly cache: CredentialCache;
  close(graceMs?: number): Promise<void>;
}

export async function startProxy(config: Config, log: Logger, cacheOptions: CredentialCacheOptions = {}): Promise<RunningProxy> {
  const cache = new CredentialCache({
    onApiCall: (e) => log.debug({ durationMs: Math.round(e.durationMs), ok: e.ok, error: e.errorName, background: e.background },
      'credential API call'),
    onBackgroundError: (_key, err) => log.warn({ err: err instanceof Error ? err.message : String(err) },
      'background credential refresh failed; the current credential stays in use'),
    ...cacheOptions,
  });
  const cancelKeys = new CancelKeys();
  const listeners = config.listeners.map((l) => new Listener(l.host, l.port, {
    target: new Target(l.target, cache, config.connectTimeoutMs),
    cancelKeys,
    limits: { startupTimeoutMs: config.startupTimeoutMs, maxStartupPacket: config.maxStartupPacket,
      idleReleaseMs: config.idleReleaseMs },
    log,
  }, log));
  const addresses: AddressInfo[] = [];
  try {
    for (const l of listeners) addresses.push(await l.listen());
  } catch (err) {
    await Promise.all(listeners.map((l) => l.close()));
    cache.close();
    throw err;
  }
  for (const a of addresses) log.info({ address: a.address, port: a.port }, 'listening');
  return {
    listeners,
    addresses,
    cache,
    async close(graceMs = 0) {
      await Promise.all(listeners.map((l) => l.close(graceMs)));
      cache.close();
    },
  };
}
