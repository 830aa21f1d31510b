/**
 * `start`: run the proxy (and the operations endpoint, when --http-listen is set) until SIGINT/SIGTERM or a POST to
 * /quitquitquit. The first of these stops accepting at once (readiness turns false at the same moment) and lets
 * sessions finish for the grace period, after which the rest are closed with 57P01; a second signal exits at once.
 * Exit status 130 (SIGINT), 143 (SIGTERM; 0 with --exit-zero-on-sigterm), 0 after /quitquitquit; 1 when the proxy
 * could not start. Under systemd (Type=notify) it reports READY=1 once listening and STOPPING=1 when shutdown begins.
 *
 * SIGHUP, POST /reload and the `reload` command re-read the config file (with the same flags and environment over
 * it) and apply it (proxy/reconfigure.ts); a file with problems changes nothing and every problem is logged with
 * its line, answered to /reload and kept for GET /reload.
 */
import path from 'node:path';
import type { Config, TargetConfig } from '../config/config.js';
import type { ResolvedConfig } from '../config/resolve-config.js';
import type { ReloadOutcome } from '../proxy/reconfigure.js';
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
import { serviceNotifier } from '../service/notify.js';

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

/** What a reload did, as /reload answers and keeps it. */
export type ReloadReport = ReloadOutcome & { readonly at: string };

export async function runStart(config: Config, reloadConfig?: () => ResolvedConfig): Promise<number> {
  const log = createLogger(config.logLevel, undefined, config.logFormat);
  const exposed = commandLineSecretWarning(process.argv);
  if (exposed) log.warn(exposed);
  // The first stop request (a signal or /quitquitquit) resolves this with its reason and exit status. The signal
  // handlers are installed before anything listens, so a signal that comes as soon as "listening" is logged is
  // ours, never the default action; one handler for the whole run, so a second signal is never unhandled either.
  let stop: ((reason: { readonly by: string; readonly exitCode: number }) => void) | undefined;
  const stopped = new Promise<{ readonly by: string; readonly exitCode: number }>((resolve) => {
    stop = resolve;
  });
  let exitCode = 1;
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (!stopping) {
      const code = signal === 'SIGTERM' && config.exitZeroOnSigterm ? 0 : SIGNAL_EXIT[signal] ?? 1;
      stop?.({ by: signal, exitCode: code });
      return;
    }
    log.warn({ signal }, 'second signal: exiting now');
    log.flush();
    process.exit(exitCode);
  };
  // SIGHUP's default action ends the process: it is ours from the start, ignored until the proxy runs.
  let hangup: (() => void) | undefined;
  const onHangup = (): void => {
    if (hangup) hangup();
    else log.warn('SIGHUP before the proxy was running: ignored');
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('SIGHUP', onHangup);
  const detach = (): void => {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    process.off('SIGHUP', onHangup);
  };
  let proxy: RunningProxy;
  let ops: OpsServer | undefined;
  try {
    proxy = await startProxy(config, log);
  } catch (err) {
    detach();
    log.fatal({ err: err instanceof Error ? err.message : String(err) }, 'could not start');
    log.flush();
    return 1;
  }
  const readiness = new Readiness(proxy);
  let notifier: ReturnType<typeof serviceNotifier>;
  let lastReload: ReloadReport | undefined;
  const reload = async (by: string): Promise<ReloadReport> => {
    const at = new Date().toISOString();
    if (!reloadConfig) return { ok: false, problems: ['this process cannot reload'], at };
    notifier?.send({ RELOADING: '1', MONOTONIC_USEC: String(process.hrtime.bigint() / 1000n) });
    const resolved = reloadConfig();
    const outcome: ReloadOutcome = resolved.ok
      ? await proxy.reconfigure(resolved.config, resolved.config.shutdownGraceMs ?? DEFAULTS.shutdownGraceMs)
      : { ok: false, problems: resolved.problems };
    lastReload = { ...outcome, at };
    if (outcome.ok) {
      log.info({ by, added: outcome.added, removed: outcome.removed, changed: outcome.changed, unchanged: outcome.unchanged.length },
        'reloaded the configuration');
      for (const w of outcome.warnings) log.warn({ by }, `reload: ${w}`);
    } else {
      for (const p of outcome.problems) log.error({ by }, `reload refused, the running configuration is unchanged: ${p}`);
    }
    notifier?.send({ READY: '1', STATUS: outcome.ok ? `serving ${proxy.listeners.map((l) => l.label).join(', ')}`
      : `serving; the last reload was refused (${outcome.problems.length} problems)` });
    return lastReload;
  };
  if (config.httpListen) {
    try {
      const token = config.httpTokenFile ? readSecretLine(config.httpTokenFile, 'the HTTP token file') : undefined;
      if (config.httpTokenFile && !token) throw new Error(`the HTTP token file ${config.httpTokenFile} is empty`);
      const status = new StatusPage(new StatusReporter(proxy, config), proxy.signIn.provider, log, config.httpListen.host);
      ops = await startOpsServer(config.httpListen, proxy.metrics, readiness, log, status, {
        quit: () => stop?.({ by: '/quitquitquit', exitCode: 0 }),
        reload: async () => {
          const r = await reload('/reload');
          return { status: r.ok ? 200 : 422, body: r };
        },
        lastReload: () => lastReload,
      }, token);
    } catch (err) {
      detach();
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
  notifier = serviceNotifier(process.env, log);
  hangup = () => {
    void reload('SIGHUP');
  };
  notifier?.send({ READY: '1', STATUS: `serving ${proxy.listeners.map((l) => l.label).join(', ')}` });
  const reason = await stopped;
  hangup = undefined;
  stopping = true;
  exitCode = reason.exitCode;
  readiness.shutdownStarted();
  notifier?.send({ STOPPING: '1', STATUS: `shutting down (${reason.by})` });
  const graceMs = config.shutdownGraceMs ?? DEFAULTS.shutdownGraceMs;
  // close() stops accepting before it first yields, so the line below is true when it is read.
  const closing = proxy.close(graceMs);
  log.info({ signal: reason.by, graceMs }, 'shutting down: no new connections; open sessions may finish (a second signal exits now)');
  await closing;
  await ops?.close();
  detach();
  await notifier?.idle();
  log.info('stopped');
  log.flush();
  return exitCode;
}
