/**
 * A plain TCP forwarder between the proxy and the test bed. TLS passes through it end to end (the certificate
 * still names localhost), so it can simulate network faults the real path has: a cut connection, a stall.
 */
import net from 'node:net';

export class TcpForwarder {
  private readonly server: net.Server;
  private readonly pairs = new Set<[net.Socket, net.Socket]>();
  /** When true, new connections are accepted but never forwarded (a server that never answers). */
  blackhole = false;
  connections = 0;

  constructor(private readonly targetHost: string, private readonly targetPort: number) {
    this.server = net.createServer((client) => {
      this.connections++;
      client.on('error', () => undefined);
      if (this.blackhole) return;
      const upstream = net.connect({ host: this.targetHost, port: this.targetPort });
      upstream.on('error', () => client.destroy());
      client.on('error', () => upstream.destroy());
      const pair: [net.Socket, net.Socket] = [client, upstream];
      this.pairs.add(pair);
      client.pipe(upstream);
      upstream.pipe(client);
      const drop = (): void => {
        this.pairs.delete(pair);
        client.destroy();
        upstream.destroy();
      };
      client.once('close', drop);
      upstream.once('close', drop);
    });
  }

  async listen(): Promise<number> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    return (this.server.address() as net.AddressInfo).port;
  }

  /** Cuts every forwarded connection at the TCP level, as a NAT timeout or a network blip would. */
  cutAll(): void {
    for (const [a, b] of this.pairs) {
      a.destroy();
      b.destroy();
    }
    this.pairs.clear();
  }

  get active(): number {
    return this.pairs.size;
  }

  async close(): Promise<void> {
    this.cutAll();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}
