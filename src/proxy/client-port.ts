/**
 * The one owner of a session's client connection: every byte the client is sent leaves through `write` or `end`
 * here — the front door's answers, the relayed server bytes, the session's own errors — and the client's bytes
 * arrive at the one reader the session has set. On a TLS upgrade the port moves onto the TLS socket; nobody else
 * holds the socket.
 */
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';

/** How long a connection we ended may take to flush its last message before it is destroyed. */
const LINGER_MS = 1_000;

export interface ClientPortEvents {
  /** The client's side ended or failed (once per socket; the session decides what that means). */
  gone(reason: string): void;
}

export class ClientPort {
  private socket: Socket;
  private reader: ((chunk: Buffer) => void) | undefined;
  /** Peer address for logs, read once at accept (a closed socket no longer knows it). */
  readonly address: string;
  /** The peer's host alone (per-source bounds count by it); undefined for a Unix-socket peer. */
  readonly source: string | undefined;
  private readonly onData = (chunk: Buffer): void => this.reader?.(chunk);
  private readonly onEnd = (): void => this.events.gone('client disconnected');
  private readonly onError = (err: Error): void => this.events.gone(`client socket error: ${err.message}`);

  constructor(socket: Socket, private readonly events: ClientPortEvents) {
    this.socket = socket;
    this.address = peerOf(socket);
    this.source = socket.remoteAddress;
    socket.setNoDelay(true);
    socket.setKeepAlive(true, 60_000);
    this.attach(socket);
  }

  /** Where the client's bytes go from now on (one reader at a time); undefined drops them. */
  read(reader: ((chunk: Buffer) => void) | undefined): void {
    this.reader = reader;
  }

  get destroyed(): boolean {
    return this.socket.destroyed;
  }

  get writableLength(): number {
    return this.socket.writableLength;
  }

  write(bytes: Buffer): boolean {
    return this.socket.write(bytes);
  }

  /** Ends the connection, with a last message when given; destroyed after a short linger either way. */
  end(last?: Buffer): void {
    const socket = this.socket;
    if (socket.destroyed) return;
    if (last) socket.end(last);
    else socket.end();
    setTimeout(() => socket.destroy(), LINGER_MS).unref();
  }

  destroy(): void {
    this.socket.destroy();
  }

  pause(): void {
    this.socket.pause();
  }

  resume(): void {
    this.socket.resume();
  }

  cork(): void {
    this.socket.cork();
  }

  uncork(): void {
    this.socket.uncork();
  }

  onceDrain(listener: () => void): void {
    this.socket.once('drain', listener);
  }

  /**
   * Hands the plain socket to a TLS upgrade (the caller has answered 'S'); bytes on it are no longer read. On
   * success the port moves onto the TLS socket; false when the session ended meanwhile (the socket is destroyed).
   */
  async upgrade(handshake: (raw: Socket) => Promise<TLSSocket>, stillWanted: () => boolean): Promise<boolean> {
    const raw = this.socket;
    this.detach(raw);
    // A failure of the plain socket during the handshake is the handshake's failure.
    raw.on('error', () => undefined);
    const secure = await handshake(raw);
    if (!stillWanted() || raw.destroyed) {
      secure.destroy();
      return false;
    }
    this.socket = secure;
    this.attach(secure);
    return true;
  }

  private attach(socket: Socket): void {
    socket.on('data', this.onData);
    socket.on('end', this.onEnd);
    socket.on('close', this.onEnd);
    socket.on('error', this.onError);
  }

  private detach(socket: Socket): void {
    socket.off('data', this.onData);
    socket.off('end', this.onEnd);
    socket.off('close', this.onEnd);
    socket.off('error', this.onError);
  }
}

function peerOf(client: Socket): string {
  // Unix-socket peers have no address; say so rather than "unknown:0".
  if (client.remoteAddress === undefined) return 'unix socket';
  return `${client.remoteAddress}:${client.remotePort ?? 0}`;
}
