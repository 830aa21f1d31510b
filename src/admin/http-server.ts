/**
 * The operations endpoint (--http-listen): GET /healthz (liveness: the process answers), /readyz (readiness, see
 * readiness.ts; 503 with the JSON reason when not ready) and /metrics (Prometheus text format); with a StatusPage
 * also / and /status (status-page.ts: Host-checked, and the one state-changing request, POST /sign-in, needs its
 * token and Origin). Nothing it returns is secret — but it names users, the
 * cluster and key prefixes, so beyond loopback it is served only to requests carrying the bearer token of
 * --http-token-file (`Authorization: Bearer <token>`). Probes need no token: /healthz says nothing but "ok", and
 * /readyz without the token answers its status code with `{"ready": …}` alone (the kubelet cannot read a Secret
 * into a probe's headers). The other requests that change anything are POSTs that request-guard.ts admits
 * (loopback peer, loopback Host, no cross-site browser; the bearer token too when one is configured):
 * /quitquitquit (begin the same graceful shutdown as SIGTERM, for a Job's sidecar) and /reload.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { HttpListenConfig } from '../config/config.js';
import type { Logger } from '../ops/logger.js';
import type { ProxyMetrics } from '../ops/metrics.js';
import type { Readiness } from './readiness.js';
import { STATUS_PATHS } from './status-page.js';
import type { StatusPage } from './status-page.js';
import { guardLocalChange } from './request-guard.js';

/** What the endpoint may ask of the running proxy; an action that is absent answers 404. */
export interface AdminActions {
  /** Begin graceful shutdown (exit status 0), as cloud-sql-proxy's /quitquitquit. */
  readonly quit?: (() => void) | undefined;
  /** Re-read the config file; resolves with the HTTP status and the JSON body to send. */
  readonly reload?: (() => Promise<{ readonly status: number; readonly body: unknown }>) | undefined;
  /** What the last reload did (GET /reload); undefined before the first. */
  readonly lastReload?: (() => unknown) | undefined;
}

const POST_ROUTES = ['/quitquitquit', '/reload'] as const;

export interface OpsServer {
  readonly address: AddressInfo;
  close(): Promise<void>;
}

function send(res: http.ServerResponse, status: number, type: string, body: string): void {
  res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
  res.end(body);
}

const json = (value: unknown): string => `${JSON.stringify(value)}\n`;

/** Compares the request's bearer token with the configured one in constant time (both hashed to one length). */
function bearerMatches(header: string | undefined, digest: Buffer): boolean {
  const m = /^Bearer (\S+)$/.exec(header ?? '');
  if (!m) return false;
  return timingSafeEqual(createHash('sha256').update(m[1] as string).digest(), digest);
}

export async function startOpsServer(listen: HttpListenConfig, metrics: ProxyMetrics, readiness: Readiness,
  log: Logger, status?: StatusPage, actions: AdminActions = {}, bearerToken?: string): Promise<OpsServer> {
  const tokenDigest = bearerToken ? createHash('sha256').update(bearerToken).digest() : undefined;
  const server = http.createServer((req, res) => {
    const statusPath = new URL(req.url ?? '/', 'http://localhost').pathname;
    // Beyond loopback everything but the probes needs the bearer token, the status page included.
    const authorized = !tokenDigest || bearerMatches(req.headers.authorization, tokenDigest);
    if (!authorized && statusPath !== '/healthz' && statusPath !== '/readyz') {
      res.setHeader('www-authenticate', 'Bearer');
      send(res, 401, 'application/json', json({ error: 'send Authorization: Bearer <the token of --http-token-file>' }));
      return;
    }
    // The status page (/, /status, the Sign in button) checks Host, Origin and its token itself.
    if (status && STATUS_PATHS.has(statusPath)) {
      status.handle(req, res, statusPath).catch((err: unknown) => {
        log.error({ err: err instanceof Error ? err.message : String(err), path: statusPath }, 'status page failed');
        if (!res.headersSent) send(res, 500, 'application/json', json({ error: 'internal error' }));
        else res.destroy();
      });
      return;
    }
    if ((POST_ROUTES as readonly string[]).includes(statusPath)) {
      handleChange(req, res, statusPath, actions, log);
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      send(res, 405, 'application/json', json({ error: 'only GET is served' }));
      return;
    }
    const path = statusPath;
    const handle = async (): Promise<void> => {
      switch (path) {
        case '/healthz':
          send(res, 200, 'application/json', json({ status: 'ok' }));
          return;
        case '/readyz': {
          const report = await readiness.report();
          send(res, report.ready ? 200 : 503, 'application/json', json(authorized ? report : { ready: report.ready }));
          return;
        }
        case '/metrics':
          send(res, 200, metrics.registry.contentType, await metrics.text());
          return;
        default:
          send(res, 404, 'application/json', json({ error: `no such endpoint ${path}; try /healthz, /readyz or /metrics` }));
      }
    };
    handle().catch((err: unknown) => {
      log.error({ err: err instanceof Error ? err.message : String(err), path }, 'operations endpoint failed');
      if (!res.headersSent) send(res, 500, 'application/json', json({ error: 'internal error' }));
      else res.destroy();
    });
  });
  // Probes and scrapers open a connection per request; do not let idle keep-alives hold shutdown up.
  server.keepAliveTimeout = 2_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: listen.host, port: listen.port }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  status?.bind(address);
  log.info({ address: address.address, port: address.port }, 'operations endpoint: /healthz /readyz /metrics');
  return {
    address,
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}

/** POST /quitquitquit and /reload: guarded, and the body is ignored (nothing is read from the request). */
function handleChange(req: http.IncomingMessage, res: http.ServerResponse, path: string, actions: AdminActions,
  log: Logger): void {
  req.resume();
  if (path === '/reload' && (req.method === 'GET' || req.method === 'HEAD') && actions.lastReload) {
    send(res, 200, 'application/json', json(actions.lastReload() ?? { reloaded: false }));
    return;
  }
  if (req.method !== 'POST') {
    res.setHeader('allow', 'POST');
    send(res, 405, 'application/json', json({ error: `${path} takes POST` }));
    return;
  }
  const guard = guardLocalChange(req);
  if (!guard.ok) {
    log.warn({ path, peer: req.socket.remoteAddress, host: req.headers.host, origin: req.headers.origin }, `refused ${path}: ${guard.reason}`);
    send(res, guard.status, 'application/json', json({ error: guard.reason }));
    return;
  }
  if (path === '/quitquitquit' && actions.quit) {
    const quit = actions.quit;
    log.info({ peer: req.socket.remoteAddress }, '/quitquitquit: shutting down');
    // Answer first: the shutdown that follows closes this server.
    res.once('finish', () => quit());
    send(res, 200, 'application/json', json({ status: 'shutting down' }));
    return;
  }
  if (path === '/reload' && actions.reload) {
    actions.reload().then(({ status, body }) => send(res, status, 'application/json', json(body)), (err: unknown) => {
      log.error({ err: err instanceof Error ? err.message : String(err) }, '/reload failed');
      send(res, 500, 'application/json', json({ error: 'internal error' }));
    });
    return;
  }
  send(res, 404, 'application/json', json({ error: `${path} is not served by this process` }));
}
