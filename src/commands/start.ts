/**
 * `start`: run the proxy (and the operations endpoint, when --http-listen is set) until SIGINT/SIGTERM. The
 * first signal stops accepting at once and lets sessions finish for the grace period, after which the rest are
 * closed with 57P01; a second signal exits at once. Exit status 130 (SIGINT) or 143 (SIGTERM); 1 when the proxy
 * could not start.
 */
import path from 'node:path';
import type { Config, TargetConfig } from '../config/config.js';
import { DEFAULTS } from '../config/config.js';
import { startOpsServer } from '../admin/http-server.js';
import type { OpsServer } from '../admin/http-server.js';
import { createLogger } from '../ops/logger.js';
import { Readiness } from '../admin/readiness.js';
import { StatusPage } from '../admin/status-page.js';
import { StatusReporter } from '../admin/status-report.js';
import { startProxy } from '../proxy/proxy.js';
import { readSecretLine } from '../config/secret-file.js';
import { isLoopback } from '../config/validate-config.js';
import type { ListenerConfig } from '../config/config.js';
import type { RunningProxy } from '../proxy/proxy.js';
import type { Listener } from '../proxy/listener.js';

const SIGNAL_EXIT: Record<string, number> = { SIGINT: 130, SIGTERM: 143 };

/** How a client reaches this listener, as a psql connection string (no password: the proxy supplies it). */
export function connectHint(listener: Listener, target: TargetConfig): string {
  const a = listener.address;
  const user = target.dbUser && !target.users ? target.dbUser : '<name>';
  const db = target.dbName ?? 'dev';
  if (a.family === 'unix') {
    const m = /^\.s\.PGSQL\.(\d+)$/.exec(path.basename(a.address));
    return m ? `psql "host=${path.dirname(a.address)} port=${m[1]} dbname=${db} user=${user}"`
      : `a client that takes a socket path: ${a.address} (libpq expects the name .s.PGSQL.<port>)`;
  }
  return `psql "host=${a.address} port=${a.port} dbname=${db} user=${user}"`;
}

/** A warning when a password was given on the command line, which every user of the machine can read (ps, /proc). */
export function commandLineSecretWarning(argv: readonly string[]): string | undefined {
  if (!argv.some((a) => a === '--client-password' || a.startsWith('--client-password='))) return undefined;
  return '--client-password on the command line is visible to every user of this machine (ps, /proc): '
    + 'use --client-password-file FILE (mode 0600) or REDSHIFT_AUTH_PROXY_CLIENT_PASSWORD instead';
}

/** What the ready line says about the listener's client authentication and TLS: exactly what is configured. */
export function clientSecurity(l: ListenerConfig): string {
  const auth = [l.clientAuth?.password || l.clientAuth?.passwordFile ? 'password (SCRAM-SHA-256)' : undefined,
    l.clientAuth?.caFile ? 'client certificate' : undefined].filter(Boolean);
  const tls = l.clientTls ? (l.clientTls.require || l.clientAuth?.caFile ? 'TLS required' : 'TLS offered') : 'no TLS';
  const plain = !l.clientTls && l.unixSocket === undefined && !isLoopback(l.host)
    ? ' — queries cross the network unencrypted (--allow-plaintext-network)' : '';
  return `${auth.length > 0 ? auth.join(' and ') : 'no password'}, ${tls}${plain}`;
}

export async function runStart(config: Config): Promise<number> {
  const log = createLogger(config.logLevel, undefined, config.logFormat);
  const exposed = commandLineSecretWarning(process.argv);
  if (exposed) log.warn(exposed);
  let proxy: RunningProxy;
  let ops: OpsServer | undefined;
  try {
    proxy = await startProxy(config, log);
  } catch (err) {
    log.fatal({ err: err instanceof Error ? err.message : String(err) }, 'could not start');
    log.flush();
    return 1;
  }
  if (config.httpListen) {
    try {
      const token = config.httpTokenFile ? readSecretLine(config.httpTokenFile, 'the HTTP token file') : undefined;
      if (config.httpTokenFile && !token) throw new Error(`the HTTP token file ${config.httpTokenFile} is empty`);
      const status = new StatusPage(new StatusReporter(proxy, config), proxy.signIn.provider, log, config.httpListen.host);
      ops = await startOpsServer(config.httpListen, proxy.metrics, new Readiness(proxy), log, status, token);
    } catch (err) {
      log.fatal({ err: err instanceof Error ? err.message : String(err) }, 'could not start the operations endpoint');
      await proxy.close();
      log.flush();
      return 1;
    }
  }
  proxy.listeners.forEach((l, i) => {
    const t = config.listeners[i]?.target;
    if (!t) return;
    log.info({ listener: l.label, upstream: t.upstreamHost ? `${t.upstreamHost}:${t.upstreamPort}` : '(discovered)',
      cluster: t.clusterId, workgroup: t.workgroup, dbUser: t.dbUser ?? (t.withIam || t.workgroup ? '(IAM identity)' : '(client user name)') },
    `ready: connect with ${connectHint(l, t)} — ${clientSecurity(config.listeners[i] as ListenerConfig)}`);
  });
  log.flush(); // whoever waits for "ready" sees it now, not at the next periodic flush
  // One handler for the whole run: with process.once there would be an instant between the first signal and the
  // second handler in which a signal gets the default action (killed without a word).
  let first: ((signal: string) => void) | undefined;
  let exitCode = 1;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (first) {
      first(signal);
      first = undefined;
      return;
    }
    log.warn({ signal }, 'second signal: exiting now');
    log.flush();
    process.exit(exitCode);
  };
  const signal = await new Promise<string>((resolve) => {
    first = resolve;
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
  const graceMs = config.shutdownGraceMs ?? DEFAULTS.shutdownGraceMs;
  exitCode = SIGNAL_EXIT[signal] ?? 1;
  // close() stops accepting before it first yields, so the line below is true when it is read.
  const closing = proxy.close(graceMs);
  log.info({ signal, graceMs }, 'shutting down: no new connections; open sessions may finish (a second signal exits now)');
  await closing;
  await ops?.close();
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
  log.info('stopped');
  log.flush();
  return exitCode;
}
