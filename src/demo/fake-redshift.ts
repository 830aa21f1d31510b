/**
 * The demo's stand-in for a Redshift cluster's data plane: a TCP listener on 127.0.0.1 (port chosen by the OS)
 * that demands TLS with the demo certificate, md5 logins with passwords the control-plane emulator issued, and then
 * serves the embedded PGlite database. One FakeRedshiftSession per connection (fake-redshift-session.ts).
 */
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import tls from 'node:tls';
import type { DemoCertificates } from './certificates.js';
import { FakeRedshiftSession } from './fake-redshift-session.js';
import type { FakeRedshiftEvent, SessionDeps } from './fake-redshift-session.js';
import type { IssuedPassword } from './md5-password.js';
import type { SharedBackend } from './shared-backend.js';

export type { FakeRedshiftEvent } from './fake-redshift-session.js';
export type { IssuedPassword } from './md5-password.js';

export interface FakeRedshiftOptions {
  readonly certificates: DemoCertificates;
  readonly backend: SharedBackend;
  /** The only database served (`dev`); others are refused with 3D000 after login. */
  readonly database: string;
  /** The password the emulator issued to a database user and its VALID UNTIL, if any. */
  readonly issued: (user: string) => IssuedPassword | undefined;
  readonly onEvent?: (event: FakeRedshiftEvent) => void;
  /** Offer Redshift's own IAM Identity Center login (code 14), tokens checked by `check`. */
  readonly idc?: SessionDeps['idc'];
}

export interface FakeRedshift {
  readonly host: string;
  readonly port: number;
  /** Stops listening and drops every connection. */
  close(): Promise<void>;
}

export async function startFakeRedshift(options: FakeRedshiftOptions): Promise<FakeRedshift> {
  const secureContext = tls.createSecureContext({
    cert: options.certificates.certPem,
    key: options.certificates.keyPem,
    minVersion: 'TLSv1.2',
  });
  const sessions = new Set<FakeRedshiftSession>();
  let nextId = 1;
  const server = net.createServer((socket) => {
    socket.setNoDelay(true);
    const session = new FakeRedshiftSession(socket, nextId++, {
      secureContext,
      backend: options.backend,
      database: options.database,
      issued: options.issued,
      onEvent: options.onEvent ?? (() => undefined),
      idc: options.idc,
    });
    sessions.add(session);
    socket.once('close', () => sessions.delete(session));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { address, port } = server.address() as AddressInfo;
  return {
    host: address,
    port,
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      for (const s of sessions) s.destroy();
    }),
  };
}
