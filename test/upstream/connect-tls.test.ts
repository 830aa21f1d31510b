/**
 * connectTls against the real test bed. Its host-name check reads only the leaf certificate during the handshake
 * (the chain is OpenSSL's job): it must still refuse a name the leaf does not carry, and once connected the socket
 * must be an ordinary TLSSocket again. Its first key share must be one the server takes without asking again.
 */
import net from 'node:net';
import tls from 'node:tls';
import { describe, expect, it } from 'vitest';
import { ClientError } from '../../src/protocol/client-error.js';
import { connectTls } from '../../src/upstream/connect-tls.js';
import { useTlsBed } from '../support/tls-bed.js';

const tb = useTlsBed();

describe('the certificate read of the host-name check', () => {
  it('hands tls.checkServerIdentity the leaf alone, and leaves the socket as Node made it', async () => {
    const seen: tls.PeerCertificate[] = [];
    const checkServerIdentity = tls.checkServerIdentity;
    // Observe what Node passes to the check, without changing its verdict.
    (tls as { checkServerIdentity: typeof tls.checkServerIdentity }).checkServerIdentity = (host, cert) => {
      seen.push(cert);
      return checkServerIdentity(host, cert);
    };
    let socket: tls.TLSSocket;
    try {
      socket = await connectTls({ host: 'localhost', port: tb.bed.port, secureContext: tb.trusted, connectTimeoutMs: 5_000 });
    } finally {
      (tls as { checkServerIdentity: typeof tls.checkServerIdentity }).checkServerIdentity = checkServerIdentity;
    }
    expect(socket.authorized).toBe(true);
    expect(seen).toHaveLength(1);
    expect(seen[0]?.subjectaltname).toContain('DNS:localhost');
    // The leaf only: no chain was built for the check.
    expect((seen[0] as Partial<tls.DetailedPeerCertificate> | undefined)?.issuerCertificate).toBeUndefined();
    // Afterwards the socket answers from its prototype again, chain included.
    expect(Object.hasOwn(socket, 'getPeerCertificate')).toBe(false);
    expect(socket.getPeerCertificate(true).issuerCertificate?.subject).toBeDefined();
    socket.destroy();
  });

  it('still refuses an address the leaf does not name', async () => {
    const err = await connectTls({ host: '127.0.0.2', port: tb.bed.port, secureContext: tb.trusted, connectTimeoutMs: 5_000 })
      .then((s) => {
        s.destroy();
        return undefined;
      }, (e: unknown) => e);
    expect(err).toBeInstanceOf(ClientError);
    expect(((err as ClientError).cause as NodeJS.ErrnoException).code).toBe('ERR_TLS_CERT_ALTNAME_INVALID');
  });
});

/** Whether this runtime's OpenSSL has the post-quantum hybrid group, for which Node's own order is kept. */
const postQuantum = ((): boolean => {
  try {
    tls.createSecureContext({ ecdhCurve: 'X25519MLKEM768' });
    return true;
  } catch {
    return false;
  }
})();

/** RFC 8446 §4.1.3: a ServerHello carrying this random is a HelloRetryRequest. */
const HELLO_RETRY_RANDOM = Buffer.from('cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c', 'hex');

/** A TCP forwarder in front of the bed that keeps what the server sent. */
async function recordingForwarder(port: number): Promise<{ port: number; fromServer: () => Buffer; close: () => void }> {
  const chunks: Buffer[] = [];
  const sockets: net.Socket[] = [];
  const server = net.createServer((client) => {
    const upstream = net.connect(port, '127.0.0.1');
    sockets.push(client, upstream);
    upstream.on('data', (d: Buffer) => chunks.push(d));
    client.pipe(upstream).pipe(client);
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    fromServer: () => Buffer.concat(chunks),
    close: () => {
      for (const s of sockets) s.destroy();
      server.close();
    },
  };
}

describe('the key share offered', () => {
  it('is one a PostgreSQL-style server (ssl_ecdh_curve prime256v1) accepts without a HelloRetryRequest', async () => {
    const forwarder = await recordingForwarder(tb.bed.port);
    try {
      const socket = await connectTls({ host: 'localhost', port: forwarder.port, secureContext: tb.trusted, connectTimeoutMs: 5_000 });
      expect(socket.getEphemeralKeyInfo()).toMatchObject({ name: 'prime256v1' });
      socket.destroy();
      const retried = forwarder.fromServer().includes(HELLO_RETRY_RANDOM);
      // Where the runtime offers a post-quantum hybrid, Node's own order is kept (and this server asks again).
      expect(retried).toBe(postQuantum);
    } finally {
      forwarder.close();
    }
  });

  it('is the same without a prepared context (the groups go with the connection options)', async () => {
    const forwarder = await recordingForwarder(tb.bed.port);
    try {
      const socket = await connectTls({ host: 'localhost', port: forwarder.port, extraCaPem: [tb.bed.caPem], connectTimeoutMs: 5_000 });
      expect(socket.authorized).toBe(true);
      socket.destroy();
      expect(forwarder.fromServer().includes(HELLO_RETRY_RANDOM)).toBe(postQuantum);
    } finally {
      forwarder.close();
    }
  });
});
