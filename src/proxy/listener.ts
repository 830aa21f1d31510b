/**
 * Accepts client connections on one address and runs a Session for each; tracks them for shutdown.
 */
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../ops/logger.js';
import { ClientError } from '../protocol/client-error.js';
import { SqlState } from '../protocol/sqlstate.js';
import { Session } from './session.js';
import type { SessionDeps } from './session.js';

export class Listener {
  private readonly server: net.Server;
  private readonly sessions = new Set<Session>();
  totalConnections = 0;

  constructor(private readonly host: string, private readonly port: number, private readonly deps: SessionDeps,
    private readonly log: Logger) {
    this.server = net.createServer({ noDelay: true, keepAlive: true, keepAliveInitialDelay: 60_000 }, (socket) => this.accept(socket));
  }

  /** Binds, and resolves with the bound address (port 0 picks a free one). */
  listen(): Promise<AddressInfo> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen({ host: this.host, port: this.port }, () => {
        this.server.off('error', reject);
        resolve(this.address);
      });
    });
  }

  get address(): AddressInfo {
    return this.server.address() as AddressInfo;
  }

  get activeConnections(): number {
    return this.sessions.size;
  }

  private accept(socket: net.Socket): void {
    this.totalConnections++;
    const session = new Session(socket, this.deps);
    this.sessions.add(session);
    void session.finished.then(() => this.sessions.delete(session));
  }

  /**
   * Stops accepting at once; lets sessions finish for up to graceMs, then ends the rest with 57P01.
   */
  async close(graceMs = 0): Promise<void> {
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      if (graceMs <= 0) this.terminateAll();
    });
    if (this.sessions.size === 0) return;
    if (graceMs > 0) {
      await Promise.race([
        Promise.all([...this.sessions].map((s) => s.finished)),
        new Promise((r) => setTimeout(r, graceMs).unref()),
      ]);
      this.terminateAll();
    }
    await Promise.all([...this.sessions].map((s) => s.finished));
  }

  private terminateAll(): void {
    if (this.sessions.size > 0) this.log.info({ sessions: this.sessions.size }, 'closing remaining sessions');
    const error = new ClientError({
      code: SqlState.AdminShutdown,
      message: 'redshift-auth-proxy is shutting down',
      hint: 'Reconnect when the proxy is back.',
    });
    for (const s of this.sessions) s.terminate(error);
  }
}
