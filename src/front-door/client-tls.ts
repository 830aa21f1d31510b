/**
 * Client-side TLS for a listener: the certificate and key it presents, and optionally the CA whose client
 * certificates it accepts. Loaded once per listener; each session upgrades its socket after answering 'S'.
 */
import { readFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import tls from 'node:tls';
import { readSecretFile } from '../config/secret-file.js';

export interface ClientTlsSettings {
  readonly certFile: string;
  readonly keyFile: string;
  /** CA for client certificates; when set, clients must present a certificate it signed. */
  readonly clientCaFile?: string | undefined;
}

export class ClientTls {
  private readonly context: tls.SecureContext;
  readonly requireClientCert: boolean;

  constructor(settings: ClientTlsSettings) {
    this.context = tls.createSecureContext({
      cert: readFileSync(settings.certFile),
      key: readSecretFile(settings.keyFile, 'the client TLS key file'),
      ...(settings.clientCaFile ? { ca: readFileSync(settings.clientCaFile) } : {}),
      minVersion: 'TLSv1.2',
    });
    this.requireClientCert = settings.clientCaFile !== undefined;
  }

  /** Wraps an accepted socket in server-side TLS; resolves once the handshake (and client-cert check) is done. */
  upgrade(socket: Socket): Promise<tls.TLSSocket> {
    return new Promise((resolve, reject) => {
      const secure = new tls.TLSSocket(socket, {
        isServer: true,
        secureContext: this.context,
        requestCert: this.requireClientCert,
        rejectUnauthorized: this.requireClientCert,
      });
      const onError = (err: Error): void => {
        secure.destroy();
        reject(err);
      };
      secure.once('error', onError);
      secure.once('secure', () => {
        secure.off('error', onError);
        resolve(secure);
      });
    });
  }
}
