/**
 * `start`: run the proxy until SIGINT/SIGTERM. The first signal stops accepting and lets sessions finish for the
 * grace period; a second signal exits at once. Exit status 130 (SIGINT) or 143 (SIGTERM).
 */
import type { Config } from '../config/config.js';
import { createLogger } from '../ops/logger.js';
import { startProxy } from '../proxy/proxy.js';

export interface StartOptions {
  readonly shutdownGraceMs: number;
}

const SIGNAL_EXIT: Record<string, number> = { SIGINT: 130, SIGTERM: 143 };

export async function runStart(config: Config, options: StartOptions): Promise<number> {
  const log = createLogger(config.logLevel);
  let proxy;
  try {
    proxy = await startProxy(config, log);
  } catch (err) {
    log.fatal({ err: err instanceof Error ? err.message : String(err) }, 'could not start');
    log.flush();
    return 1;
  }
  for (const l of config.listeners) {
    const t = l.target;
    log.info({ upstream: `${t.upstreamHost}:${t.upstreamPort}`, cluster: t.clusterId, dbUser: t.dbUser ?? '(client user name)' },
      'ready: connect with psql "host=127.0.0.1 port=5439 dbname=dev user=<name>" — no password');
  }
  const signal = await new Promise<string>((resolve) => {
    process.once('SIGINT', () => resolve('SIGINT'));
    process.once('SIGTERM', () => resolve('SIGTERM'));
  });
  log.info({ signal, graceMs: options.shutdownGraceMs }, 'shutting down: no new connections');
  const exitCode = SIGNAL_EXIT[signal] ?? 1;
  const again = (): void => {
    log.warn('second signal: exiting now');
    log.flush();
    process.exit(exitCode);
  };
  process.once('SIGINT', again);
  process.once('SIGTERM', again);
  await proxy.close(options.shutdownGraceMs);
  log.info('stopped');
  log.flush();
  return exitCode;
}
