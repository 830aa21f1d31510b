/**
 * A TCP relay between a client and the proxy that watches the protocol go by, to prove what a client library
 * really does on the wire — here, how many requests it has in flight (sent, not yet answered) at most. A client
 * that pipelines has many; one that waits for each answer has one. Independent of the proxy's own framing code.
 *
 * Requests are Sync ('S') and simple Query ('Q') messages; each is answered by exactly one ReadyForQuery ('Z').
 * https://www.postgresql.org/docs/current/protocol-flow.html#PROTOCOL-FLOW-PIPELINING
 */
import net from 'node:net';

/** SSLRequest and GSSENCRequest codes: the server answers each with one byte, not a message. */
const ENCRYPTION_REQUEST_CODES = new Set([80877103, 80877104]);

/** Cuts a byte stream into frames: untyped (length first) until the startup packet, then typed (code, length). */
class FrameCutter {
  private buffer = Buffer.alloc(0);
  /** Bytes the peer answers outside any frame (the 'S'/'N' to an SSLRequest) still to skip. */
  singleBytes = 0;

  constructor(private untyped: boolean) {}

  /** The type bytes of every complete frame in `chunk` (0 for untyped frames); calls onEncryptionRequest for those. */
  push(chunk: Buffer, onEncryptionRequest: () => void = () => undefined): number[] {
    this.buffer = Buffer.concat([this.buffer, chunk]);
    const types: number[] = [];
    for (;;) {
      if (this.singleBytes > 0 && this.buffer.length > 0) {
        this.buffer = this.buffer.subarray(1);
        this.singleBytes--;
        continue;
      }
      if (this.untyped) {
        if (this.buffer.length < 8) return types;
        const len = this.buffer.readInt32BE(0);
        if (this.buffer.length < len) return types;
        if (ENCRYPTION_REQUEST_CODES.has(this.buffer.readInt32BE(4))) onEncryptionRequest();
        else this.untyped = false; // the startup packet: typed frames follow
        this.buffer = this.buffer.subarray(len);
        types.push(0);
        continue;
      }
      if (this.buffer.length < 5) return types;
      // The length counts itself but not the type byte.
      const len = this.buffer.readInt32BE(1);
      if (this.buffer.length < 1 + len) return types;
      types.push(this.buffer[0] as number);
      this.buffer = this.buffer.subarray(1 + len);
    }
  }
}

export class WireTap {
  private readonly server: net.Server;
  private readonly sockets = new Set<net.Socket>();
  /** Over all connections: the most requests one connection had sent that were not yet answered. */
  maxInFlight = 0;
  requests = 0;

  constructor(targetPort: number) {
    this.server = net.createServer((client) => {
      const upstream = net.connect({ host: '127.0.0.1', port: targetPort });
      this.sockets.add(client).add(upstream);
      const fromClient = new FrameCutter(true);
      const fromServer = new FrameCutter(false);
      let inFlight = 0;
      let loggedIn = false; // the first ReadyForQuery ends the login and answers no request
      client.on('data', (chunk: Buffer) => {
        for (const t of fromClient.push(chunk, () => fromServer.singleBytes++)) {
          if (t === 0x53 /* S Sync */ || t === 0x51 /* Q Query */) {
            this.requests++;
            inFlight++;
            this.maxInFlight = Math.max(this.maxInFlight, inFlight);
          }
        }
        upstream.write(chunk);
      });
      upstream.on('data', (chunk: Buffer) => {
        for (const t of fromServer.push(chunk)) {
          if (t !== 0x5a /* Z ReadyForQuery */) continue;
          if (loggedIn) inFlight--;
          loggedIn = true;
        }
        client.write(chunk);
      });
      const drop = (): void => {
        client.destroy();
        upstream.destroy();
        this.sockets.delete(client);
        this.sockets.delete(upstream);
      };
      for (const s of [client, upstream]) {
        s.on('error', drop);
        s.on('close', drop);
      }
    });
  }

  async listen(): Promise<number> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return (this.server.address() as net.AddressInfo).port;
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
