/**
 * A stand-in for the Redshift endpoint on a fixed port that can be switched between working (a plain TCP
 * forwarder to the test bed: TLS passes end to end) and one fault at a time, each a way a real network or server
 * fails the proxy:
 *
 * - refuse: nothing listens on the port (the listener is closed): the connection is refused.
 * - blackhole: TCP is accepted and nothing is ever answered (a dead host behind a load balancer, a firewall that
 *   drops instead of rejecting).
 * - close-after-S: agrees to TLS ('S') and hangs up before the handshake.
 * - silent-after-S: agrees to TLS ('S'), then never answers the ClientHello: the TLS handshake stalls (a tarpit,
 *   or a server wedged between accept and handshake).
 * - garbage-after-S: agrees to TLS, then answers the ClientHello with bytes that are not TLS.
 * - injected-after-S: 'S' and further bytes in the same packet — what a man in the middle injecting plaintext
 *   before the handshake looks like (CVE-2021-23222).
 * - reset-after-startup: a real TLS server (certificate from the bed's CA, so verification passes) that resets the
 *   TCP connection as soon as the startup message arrives: a crash or network cut during login.
 * - silent-after-startup: the same TLS server, which then never answers the startup message.
 * - flood-after-startup: the same TLS server, which answers the startup message with AuthenticationOk and then
 *   ParameterStatus messages without end (a hostile server with a valid certificate, filling the proxy's memory
 *   before any timeout).
 *
 * Switching back to `none` needs no restart of anything: the proxy must recover by itself.
 */
import net from 'node:net';
import tls from 'node:tls';
import type { IssuedCert } from '../support/certs.js';

export type UpstreamFault = 'none' | 'refuse' | 'blackhole' | 'close-after-S' | 'silent-after-S' | 'garbage-after-S' | 'injected-after-S'
  | 'reset-after-startup' | 'silent-after-startup' | 'flood-after-startup';

const SSL_REQUEST_LENGTH = 8;

export class FaultyUpstream {
  private server: net.Server | undefined;
  private readonly sockets = new Set<net.Socket>();
  fault: UpstreamFault = 'none';
  /** Connections accepted so far (all faults but `refuse`). */
  connections = 0;

  private constructor(readonly port: number, private readonly target: { host: string; port: number },
    private readonly secureContext: tls.SecureContext) {}

  static async start(target: { host: string; port: number }, cert: IssuedCert): Promise<FaultyUpstream> {
    const probe = net.createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const port = (probe.address() as net.AddressInfo).port;
    await new Promise<void>((r) => probe.close(() => r()));
    const upstream = new FaultyUpstream(port, target, tls.createSecureContext({ cert: cert.certPem, key: cert.keyPem }));
    await upstream.listen();
    return upstream;
  }

  /** Switches the behaviour for new connections; existing ones are cut. */
  async setFault(fault: UpstreamFault): Promise<void> {
    this.fault = fault;
    this.cutAll();
    if (fault === 'refuse') await this.unlisten();
    else await this.listen();
  }

  async close(): Promise<void> {
    this.cutAll();
    await this.unlisten();
  }

  private cutAll(): void {
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
  }

  private async listen(): Promise<void> {
    if (this.server) return;
    const server = net.createServer((socket) => this.accept(socket));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
  }

  private async unlisten(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((r) => server.close(() => r()));
  }

  private track(socket: net.Socket): void {
    this.sockets.add(socket);
    socket.on('error', () => undefined);
    socket.once('close', () => this.sockets.delete(socket));
  }

  private accept(client: net.Socket): void {
    this.connections++;
    this.track(client);
    switch (this.fault) {
      case 'none': {
        const upstream = net.connect(this.target);
        this.track(upstream);
        client.pipe(upstream);
        upstream.pipe(client);
        client.once('close', () => upstream.destroy());
        upstream.once('close', () => client.destroy());
        return;
      }
      case 'refuse':
      case 'blackhole':
        return;
      default:
        afterSslRequest(client, () => this.afterSslRequest(client));
    }
  }

  private afterSslRequest(client: net.Socket): void {
    switch (this.fault) {
      case 'close-after-S':
        client.end('S');
        return;
      case 'silent-after-S':
        client.write('S');
        // The ClientHello is read and never answered.
        client.resume();
        return;
      case 'injected-after-S':
        client.write(Buffer.concat([Buffer.from('S'), Buffer.from('R\0\0\0\x08\0\0\0\0', 'latin1')]));
        return;
      case 'garbage-after-S':
        client.write('S');
        // The ClientHello arrives next; answer it with something that is not a TLS record.
        client.once('data', () => client.write(Buffer.from('HTTP/1.1 400 Bad Request\r\n\r\n')));
        client.resume();
        return;
      case 'reset-after-startup':
      case 'silent-after-startup':
      case 'flood-after-startup': {
        client.write('S');
        const secure = new tls.TLSSocket(client, { isServer: true, secureContext: this.secureContext });
        secure.on('error', () => undefined);
        // The first application data after the handshake is the startup message, carrying the user name.
        secure.once('data', () => {
          if (this.fault === 'reset-after-startup') client.resetAndDestroy();
          if (this.fault === 'flood-after-startup') flood(secure);
        });
        return;
      }
      default:
        client.destroy();
    }
  }
}

/** AuthenticationOk, then 4 KB ParameterStatus messages as fast as the reader takes them, until the socket closes. */
function flood(socket: tls.TLSSocket): void {
  socket.write(Buffer.from([0x52, 0, 0, 0, 8, 0, 0, 0, 0]));
  const value = 'x'.repeat(4_096);
  const body = Buffer.from(`flood\0${value}\0`, 'latin1');
  const header = Buffer.alloc(5);
  header[0] = 0x53;
  header.writeInt32BE(body.length + 4, 1);
  const chunk = Buffer.concat(Array.from({ length: 16 }, () => Buffer.concat([header, body])));
  const pump = (): void => {
    while (!socket.destroyed && socket.write(chunk)) { /* until the buffer is full */ }
  };
  socket.on('drain', pump);
  pump();
}

/** Waits for the 8-byte SSLRequest (a client may send it in pieces), then hands the socket on, paused. */
function afterSslRequest(socket: net.Socket, next: () => void): void {
  let got = Buffer.alloc(0);
  const onData = (chunk: Buffer): void => {
    got = Buffer.concat([got, chunk]);
    if (got.length < SSL_REQUEST_LENGTH) return;
    socket.off('data', onData);
    socket.pause();
    next();
  };
  socket.on('data', onData);
}
