/**
 * connectTls's host-name check reads only the leaf certificate during the handshake (the chain is OpenSSL's job),
 * against the real test bed. The check must still refuse a name the leaf does not carry, and once connected the
 * socket must be an ordinary TLSSocket again.
 */
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClientError } from '../../src/protocol/client-error.js';
import { connectTls, trustStore } from '../../src/upstream/connect-tls.js';
import { startTestBed } from '../support/pg-server.js';
import type { TestBed } from '../support/pg-server.js';

let bed: TestBed;
let trusted: tls.SecureContext;

beforeAll(async () => {
  bed = await startTestBed();
  trusted = trustStore([bed.caPem]);
});

afterAll(async () => {
  await bed?.stop();
});

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
      socket = await connectTls({ host: 'localhost', port: bed.port, secureContext: trusted, connectTimeoutMs: 5_000 });
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
    const err = await connectTls({ host: '127.0.0.2', port: bed.port, secureContext: trusted, connectTimeoutMs: 5_000 })
      .then((s) => {
        s.destroy();
        return undefined;
      }, (e: unknown) => e);
    expect(err).toBeInstanceOf(ClientError);
    expect(((err as ClientError).cause as NodeJS.ErrnoException).code).toBe('ERR_TLS_CERT_ALTNAME_INVALID');
  });
});
