/**
 * The least a Node.js middle process can do between a client and the server, to measure Node's own floor:
 * `node dist/scripts/bench/bare-relay.js UPSTREAM_PORT CA_FILE` listens on a loopback port it prints, and for each
 * client opens TCP to 127.0.0.1:UPSTREAM_PORT, sends SSLRequest, expects 'S', verifies the server (name
 * `localhost`, CA_FILE) over TLS, and then moves bytes both ways with nothing else: `on('data', c => other.write(c))`
 * with backpressure. The client logs in through it with the server's own password (md5 passes through).
 * No credentials, tracking, logs or metrics: what it costs per transaction is what any Node relay costs.
 */
import { readFileSync } from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';

const SSL_REQUEST = Buffer.from([0, 0, 0, 8, 4, 0xd2, 0x16, 0x2f]);

function relay(from: net.Socket, to: net.Socket): void {
  from.on('data', (chunk: Buffer) => {
    if (!to.write(chunk)) {
      from.pause();
      to.once('drain', () => from.resume());
    }
  });
  from.on('close', () => to.destroy());
  from.on('error', () => to.destroy());
}

function main(argv: string[]): number {
  const [portArg, caFile] = argv;
  const upstreamPort = Number(portArg);
  if (!Number.isInteger(upstreamPort) || !caFile) {
    process.stderr.write('usage: bare-relay.js UPSTREAM_PORT CA_FILE\n');
    return 2;
  }
  const secureContext = tls.createSecureContext({ ca: readFileSync(caFile, 'utf8') });
  const server = net.createServer({ noDelay: true }, (client) => {
    client.pause();
    client.on('error', () => undefined);
    const tcp = net.connect({ host: '127.0.0.1', port: upstreamPort, noDelay: true });
    tcp.on('error', () => client.destroy());
    tcp.once('connect', () => tcp.write(SSL_REQUEST));
    tcp.once('data', (answer: Buffer) => {
      if (answer[0] !== 0x53 || answer.length !== 1) {
        client.destroy();
        tcp.destroy();
        return;
      }
      const upstream = tls.connect({ socket: tcp, secureContext, servername: 'localhost' });
      upstream.once('secureConnect', () => {
        relay(client, upstream);
        relay(upstream, client);
        client.resume();
      });
      upstream.on('error', () => client.destroy());
    });
  });
  server.listen(0, '127.0.0.1', () => {
    process.stdout.write(`${(server.address() as net.AddressInfo).port}\n`);
  });
  return 0;
}

const code = main(process.argv.slice(2));
if (code !== 0) process.exitCode = code;
