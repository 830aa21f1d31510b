/**
 * What a listener asks of its clients before they get an IAM session: TLS (optional or required), a password
 * checked with SCRAM-SHA-256, and/or a client certificate signed by a configured CA.
 */
import { readSecretLine } from '../config/secret-file.js';
import type { ListenerConfig } from '../config/config.js';
import { AuthFailureDelay } from './auth-delay.js';
import { ClientTls } from './client-tls.js';
import { scramVerifier } from './scram-server.js';
import type { ScramVerifier } from './scram-server.js';

export interface ListenerSecurity {
  readonly tls?: ClientTls | undefined;
  readonly requireTls: boolean;
  readonly scram?: ScramVerifier | undefined;
  /** The pause before a wrong password is answered, per client address (absent: answered at once). */
  readonly authDelay?: AuthFailureDelay | undefined;
}

export function listenerSecurity(listener: ListenerConfig): ListenerSecurity {
  const tlsConfig = listener.clientTls;
  const auth = listener.clientAuth;
  return {
    tls: tlsConfig ? new ClientTls({ certFile: tlsConfig.certFile, keyFile: tlsConfig.keyFile, clientCaFile: auth?.caFile }) : undefined,
    // A client certificate can only be checked over TLS: asking for one implies requiring TLS.
    requireTls: Boolean(tlsConfig?.require || auth?.caFile),
    scram: clientPassword(auth) !== undefined ? scramVerifier(clientPassword(auth) as string) : undefined,
    authDelay: new AuthFailureDelay(),
  };
}

function clientPassword(auth: ListenerConfig['clientAuth']): string | undefined {
  if (auth?.password) return auth.password;
  if (auth?.passwordFile) return readSecretLine(auth.passwordFile, 'the client password file') || undefined;
  return undefined;
}
