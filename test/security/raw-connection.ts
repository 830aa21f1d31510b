/**
 * A raw TCP client for hand-built protocol bytes: writes what it is told, keeps everything the server sends, and
 * waits on events (data, end, close) rather than sleeping — with deadlines so a hostile case never hangs a test.
 */
import net from 'node:net';
import { once } from 'node:events';

export class RawConnection {
  private readonly chunks: Buffer[] = [];
  private received = 0;
  /** The server ended or closed the connection (not us). */
  closedByServer = false;
  closed = false;
  /** Last time bytes moved either way, for idle deadlines. */
  lastActivity = Date.now();
  /** When the first byte from the server arrived. */
  firstDataAt: number | undefined;
  readonly openedAt = Date.now();
  private readonly socket: net.Socket;
  private readonly waiters = new Set<() => void>();
  private destroyedByUs = false;

  private constructor(socket: net.Socket) {
    this.socket = socket;
    socket.on('data', (chunk: Buffer) => {
      this.chunks.push(chunk);
      this.received += chunk.length;
      this.lastActivity = Date.now();
      this.firstDataAt ??= this.lastActivity;
      this.wake();
    });
    socket.on('error', () => undefined);
    socket.on('end', () => {
      this.closedByServer = true;
      this.wake();
    });
    socket.on('close', () => {
      if (!this.destroyedByUs) this.closedByServer = true;
      this.closed = true;
      this.wake();
    });
  }

  static async open(port: number, host = '127.0.0.1'): Promise<RawConnection> {
    const socket = net.connect({ host, port });
    socket.setNoDelay(true);
    const conn = new RawConnection(socket);
    await once(socket, 'connect');
    return conn;
  }

  get data(): Buffer {
    if (this.chunks.length > 1) this.chunks.splice(0, this.chunks.length, Buffer.concat(this.chunks));
    return this.chunks[0] ?? Buffer.alloc(0);
  }

  /** The client-side port: how the proxy's log and its sockets name this connection. */
  get localPort(): number | undefined {
    return this.socket.localPort;
  }

  get bytesReceived(): number {
    return this.received;
  }

  /** Writes unless the connection is gone (a server that closed on us is a normal outcome here). */
  write(bytes: Buffer): void {
    if (this.socket.destroyed || this.socket.writableEnded) return;
    this.lastActivity = Date.now();
    this.socket.write(bytes);
  }

  /** Resolves true once the received bytes satisfy `test`, false on close or after timeoutMs. */
  waitFor(test: (data: Buffer) => boolean, timeoutMs: number): Promise<boolean> {
    return this.until(() => (test(this.data) ? true : this.closed ? false : undefined), timeoutMs, false);
  }

  /**
   * Resolves when the server closed, or nothing moved for idleMs, or maxMs passed; true when closed.
   *
   * "Nothing moved" is judged after letting the event loop turn a few times: when the process was busy (the proxy
   * runs in it), a timer can fire before the poll phase delivers bytes that are already waiting, and a case would be
   * judged idle while its answer sat in a socket buffer.
   */
  async waitIdleOrClose(idleMs: number, maxMs: number): Promise<boolean> {
    const deadline = Date.now() + maxMs;
    for (;;) {
      if (this.closedByServer || this.closed) return true;
      const now = Date.now();
      if (now >= deadline) return false;
      const quietFor = now - this.lastActivity;
      if (quietFor >= idleMs) {
        const seen = this.lastActivity;
        for (let i = 0; i < 3; i++) await new Promise<void>((r) => setImmediate(r));
        if (this.closedByServer || this.closed) return true;
        if (this.lastActivity === seen) return false;
        continue;
      }
      await this.until(() => (this.closedByServer || this.closed ? true : undefined),
        Math.min(deadline - now, idleMs - quietFor), false);
    }
  }

  /** Resolves true when the server has closed the connection, false after timeoutMs. */
  waitClose(timeoutMs: number): Promise<boolean> {
    return this.until(() => (this.closedByServer || this.closed ? true : undefined), timeoutMs, false);
  }

  /** Half-closes: sends FIN and keeps reading what the server still says. */
  end(): void {
    this.socket.end();
  }

  destroy(): void {
    this.destroyedByUs = true;
    this.socket.destroy();
  }

  /** Ends the connection with a TCP reset rather than a FIN, as a crashed client or a middlebox would. */
  reset(): void {
    this.destroyedByUs = true;
    this.socket.resetAndDestroy();
  }

  private until<T>(probe: () => T | undefined, timeoutMs: number, onTimeout: T): Promise<T> {
    return new Promise((resolve) => {
      const check = (): void => {
        const v = probe();
        if (v !== undefined) finish(v);
      };
      const finish = (v: T): void => {
        clearTimeout(timer);
        this.waiters.delete(check);
        resolve(v);
      };
      const timer = setTimeout(() => finish(onTimeout), timeoutMs);
      this.waiters.add(check);
      check();
    });
  }

  private wake(): void {
    for (const w of [...this.waiters]) w();
  }
}
