/**
 * Accepts client connections on one address (TCP or Unix socket) and runs a Session for each: counts them,
 * refuses those over the limits with an ErrorResponse (53300), and tracks them for a bounded graceful shutdown.
 */
import { lstatSync, unlinkSync, chmodSync } from 'node:fs';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import type { ListenerObserver } from '../ops/metrics.js';
import type { Logger } from '../ops/logger.js';
import { ClientError } from '../protocol/client-error.js';
import { SqlState } from '../protocol/sqlstate.js';
import { Session } from './session.js';
import type { SessionDeps } from './session.js';

/** Where to listen: TCP host and port, or a Unix-domain socket path. */
export type ListenerBind = { readonly host: string; readonly port: number } | { readonly path: string };

/** A limit shared by several listeners (the global --max-connections). */
export class ConnectionBudget {
  active = 0;
  /** Changed by a reload; sessions over a lowered limit are not closed, new ones are refused until below it. */
  constructor(public limit: number | undefined) {}
}

export interface ListenerOptions {
  /** Label for logs and metrics; the bound address when absent. */
  readonly name?: string | undefined;
  /** Most sessions on this listener at once. */
  readonly maxConnections?: number | undefined;
  /** The limit across all listeners. */
  readonly budget?: ConnectionBudget | undefined;
  readonly observer?: ListenerObserver | undefined;
}

/** How long a refused client has to read its ErrorResponse before the socket is destroyed. */
const REFUSAL_LINGER_MS = 1_000;

export class Listener {
  private readonly server: net.Server;
  private readonly sessions = new Set<Session>();
  private bound = false;
  private boundLabel: string | undefined;
  totalConnections = 0;

  constructor(private readonly bind: ListenerBind, private deps: SessionDeps, private readonly log: Logger,
    private options: ListenerOptions = {}) {
    this.server = net.createServer({ noDelay: true, keepAlive: true, keepAliveInitialDelay: 60_000 }, (socket) => this.accept(socket));
  }

  /** Binds, and resolves with the bound address (port 0 picks a free one; a Unix socket reports its path, port 0). */
  async listen(): Promise<AddressInfo> {
    if ('path' in this.bind) await removeStaleSocket(this.bind.path);
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      const onListening = (): void => {
        this.server.off('error', reject);
        // Only the proxy's own user may connect through a Unix socket (a sidecar shares the user or the volume).
        if ('path' in this.bind) chmodSync(this.bind.path, 0o600);
        this.bound = true;
        resolve(this.address);
      };
      if ('path' in this.bind) this.server.listen({ path: this.bind.path }, onListening);
      else this.server.listen({ host: this.bind.host, port: this.bind.port }, onListening);
    });
  }

  get address(): AddressInfo {
    const a = this.server.address();
    if (typeof a === 'string') return { address: a, family: 'unix', port: 0 };
    if (a) return a;
    return 'path' in this.bind ? { address: this.bind.path, family: 'unix', port: 0 }
      : { address: this.bind.host, family: net.isIPv6(this.bind.host) ? 'IPv6' : 'IPv4', port: this.bind.port };
  }

  /** The name given in the config, else the address clients use (read once bound: metrics use it per session). */
  get label(): string {
    if (this.options.name) return this.options.name;
    if (this.boundLabel !== undefined) return this.boundLabel;
    const a = this.address;
    const label = a.family === 'unix' ? a.address : `${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}`;
    if (this.bound) this.boundLabel = label;
    return label;
  }

  /** True while bound and accepting. */
  get listening(): boolean {
    return this.bound && this.server.listening;
  }

  /**
   * A reload changed this listener's settings: sessions accepted from now on get these deps and limits; open
   * sessions keep the ones they were given.
   */
  reconfigure(deps: SessionDeps, options: ListenerOptions): void {
    this.deps = deps;
    this.options = options;
    this.boundLabel = undefined;
  }

  get activeConnections(): number {
    return this.sessions.size;
  }

  private accept(socket: net.Socket): void {
    this.totalConnections++;
    this.options.observer?.accepted(this.label);
    const refusal = this.overLimit();
    if (refusal) {
      this.refuse(socket, refusal);
      return;
    }
    const budget = this.options.budget;
    if (budget) budget.active++;
    const session = new Session(socket, this.deps);
    this.sessions.add(session);
    void session.finished.then((summary) => {
      this.sessions.delete(session);
      if (budget) budget.active--;
      if (summary.refusal) this.options.observer?.refused(this.label, summary.refusal.code, summary.refusal);
      this.options.observer?.sessionEnded(this.label, { toClient: summary.bytesToClient, toUpstream: summary.bytesToUpstream });
    });
  }

  private overLimit(): ClientError | undefined {
    const mine = this.options.maxConnections;
    const budget = this.options.budget;
    const full = mine !== undefined && this.sessions.size >= mine ? mine
      : budget?.limit !== undefined && budget.active >= budget.limit ? budget.limit : undefined;
    if (full === undefined) return undefined;
    const scope = full === mine ? `on ${this.label}` : 'in total';
    return new ClientError({
      code: SqlState.TooManyConnections,
      message: `too many connections: redshift-auth-proxy allows ${full} sessions at once ${scope}`,
      hint: 'Close idle connections (or lower the pool size of your tool), or raise --max-connections.',
    });
  }

  /**
   * Answers with the ErrorResponse at once, before reading anything: libpq and node-postgres report an
   * ErrorResponse received in place of the answer to SSLRequest or StartupMessage. The client's own bytes are read
   * and dropped so that closing does not reset the connection before the message is read.
   */
  private refuse(socket: net.Socket, error: ClientError): void {
    this.log.warn({ client: `${socket.remoteAddress ?? 'local'}:${socket.remotePort ?? 0}`, listener: this.label,
      sqlstate: error.code, err: error.message }, 'connection refused');
    this.options.observer?.refused(this.label, error.code, error);
    socket.on('error', () => undefined);
    socket.resume();
    socket.end(error.toErrorResponse());
    setTimeout(() => socket.destroy(), REFUSAL_LINGER_MS).unref();
  }

  /**
   * Stops accepting at once; lets sessions finish for up to graceMs, then (after `atGraceEnd`, which cancels the
   * queries still running upstream) ends the rest with 57P01. (The server's own close callback waits for every
   * connection, so it is awaited only after the sessions are done.)
   */
  async close(graceMs = 0, atGraceEnd?: () => Promise<void>): Promise<void> {
    const closed = new Promise<void>((resolve) => {
      if (this.server.listening) this.server.close(() => resolve());
      else resolve();
    });
    if (this.sessions.size > 0 && graceMs > 0) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.all([...this.sessions].map((s) => s.finished)),
        new Promise((r) => {
          timer = setTimeout(r, graceMs);
        }),
      ]);
      clearTimeout(timer);
    }
    if (this.sessions.size > 0 && atGraceEnd) await atGraceEnd();
    this.terminateAll();
    await Promise.all([...this.sessions].map((s) => s.finished));
    await closed;
  }

  private terminateAll(): void {
    if (this.sessions.size > 0) this.log.info({ sessions: this.sessions.size, listener: this.label }, 'closing remaining sessions');
    const error = new ClientError({
      code: SqlState.AdminShutdown,
      message: 'redshift-auth-proxy is shutting down',
      hint: 'Reconnect when the proxy is back.',
    });
    for (const s of this.sessions) s.terminate(error);
  }
}

/**
 * A socket file left by a proxy that did not exit cleanly blocks listen() with EADDRINUSE: remove it when it is a
 * socket that refuses connections. Anything else at that path (a regular file, a socket someone serves) is left
 * for listen() to report.
 */
async function removeStaleSocket(path: string): Promise<void> {
  try {
    if (!lstatSync(path).isSocket()) return;
  } catch {
    return;
  }
  const stale = await new Promise<boolean>((resolve) => {
    const probe = net.connect({ path });
    probe.once('connect', () => {
      probe.destroy();
      resolve(false);
    });
    probe.once('error', (err: NodeJS.ErrnoException) => resolve(err.code === 'ECONNREFUSED'));
  });
  if (stale) {
    try {
      unlinkSync(path);
    } catch {
      // listen() reports the real problem
    }
  }
}
