/**
 * Opens a connection to Redshift that is TLS from its first credential-bearing byte:
 * TCP, then SSLRequest; the server must answer 'S' — anything else ends the attempt before a credential exists
 * on the wire — then a TLS handshake with certificate and host-name verification against Node's root store plus
 * any configured CA. There is no plaintext fallback.
 * https://www.postgresql.org/docs/current/protocol-flow.html#PROTOCOL-FLOW-SSL
 */
import net from 'node:net';
import tls from 'node:tls';
import { SslAnswer } from '../protocol/codes.js';
import { SSL_REQUEST } from '../protocol/frontend-messages.js';
import { ClientError } from '../protocol/client-error.js';
import { SqlState } from '../protocol/sqlstate.js';
import type { UpstreamEndpoint } from './upstream-endpoint.js';

const KEEPALIVE_MS = 60_000;
const MIN_TLS_VERSION = 'TLSv1.2';

/**
 * The key-exchange groups offered, in order; OpenSSL sends a TLS 1.3 key share for the first. Its default list starts
 * with X25519, but a PostgreSQL-style server accepts only what ssl_ecdh_curve names (prime256v1 by default), so it
 * answers with a HelloRetryRequest: one more round trip to the cluster on every login, plus a key computed for
 * nothing. P-256 first is accepted at once by every TLS 1.3 server (RFC 8446 §9.1 makes it mandatory), and the groups
 * offered stay OpenSSL 3.0's defaults, only reordered. Where the runtime offers a post-quantum hybrid
 * (X25519MLKEM768, OpenSSL 3.5+, as in Node 24) its default order is kept: trading that for a round trip is not
 * ours to make. `undefined` means Node's default.
 */
export const KEY_SHARE_GROUPS: string | undefined = offersPostQuantum() ? undefined
  : 'P-256:X25519:X448:P-521:P-384:ffdhe2048:ffdhe3072:ffdhe4096:ffdhe6144:ffdhe8192';

function offersPostQuantum(): boolean {
  try {
    tls.createSecureContext({ ecdhCurve: 'X25519MLKEM768' });
    return true;
  } catch {
    return false;
  }
}

const CONTEXT_OPTIONS: tls.SecureContextOptions = {
  minVersion: MIN_TLS_VERSION,
  ...(KEY_SHARE_GROUPS !== undefined ? { ecdhCurve: KEY_SHARE_GROUPS } : {}),
};

/**
 * Node's root store plus extra CAs, with our TLS floor and key-share order: build once per endpoint and pass as its
 * secureContext. Without extra CAs it is Node's default store, the one tls.connect would otherwise build a context
 * around again for every connection (~1 ms each).
 */
export function trustStore(extraCaPem: readonly string[]): tls.SecureContext {
  if (extraCaPem.length === 0) return tls.createSecureContext(CONTEXT_OPTIONS);
  return tls.createSecureContext({ ...CONTEXT_OPTIONS, ca: [...tls.rootCertificates, ...extraCaPem] });
}

function unreachable(endpoint: UpstreamEndpoint, message: string, hint: string, cause?: unknown): ClientError {
  return new ClientError({
    code: SqlState.SqlclientUnableToEstablishSqlconnection,
    message,
    detail: `upstream ${endpoint.host}:${endpoint.port}`,
    hint,
  }, { cause });
}

/**
 * Resolves with a verified TLS socket, or rejects with a ClientError that explains why not — within
 * connectTimeoutMs, or as soon as `signal` aborts, whichever stage the connection is in. Once the TLS layer wraps
 * the TCP socket, destroying the TCP socket alone settles nothing (the TLS socket owns the handle and never reports
 * the loss), so the deadline and the abort destroy the socket of the current stage.
 */
export async function connectTls(endpoint: UpstreamEndpoint, signal?: AbortSignal): Promise<tls.TLSSocket> {
  if (signal?.aborted) throw signal.reason;
  // The address may come from the endpoint's cache; the certificate is checked against the name either way.
  const tcp = net.connect({ host: endpoint.host, port: endpoint.port, lookup: endpoint.addresses?.lookup });
  tcp.setNoDelay(true);
  tcp.setKeepAlive(true, KEEPALIVE_MS);
  const stage: Stage = { current: tcp };
  // A plain timer and listener: AbortSignal.timeout + AbortSignal.any cost ~0.1 ms per connection, and the
  // timeout's timer would outlive the connect by connectTimeoutMs.
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    stage.current.destroy();
  }, endpoint.connectTimeoutMs);
  const onAbort = (): void => {
    stage.current.destroy();
  };
  signal?.addEventListener('abort', onAbort, { once: true });
  const started = performance.now();
  try {
    await negotiateTls(tcp, endpoint);
    const socket = await handshake(tcp, endpoint, stage);
    endpoint.onConnected?.(performance.now() - started);
    return socket;
  } catch (err) {
    stage.current.destroy();
    tcp.destroy();
    if (signal?.aborted) throw signal.reason;
    // Whatever went wrong, the next connection looks the name up again rather than trust a possibly stale address.
    endpoint.addresses?.forget(endpoint.host);
    if (timedOut) {
      throw unreachable(endpoint, `Redshift did not complete a TLS connection within ${endpoint.connectTimeoutMs} ms`,
        'Check that the cluster is available and reachable from this machine (VPC, security group, VPN), or raise --connect-timeout.', err);
    }
    throw err;
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener('abort', onAbort);
  }
}

/** The socket a deadline or abort must destroy: the TCP socket, then the TLS socket around it. */
interface Stage {
  current: net.Socket;
}

/** Sends SSLRequest and waits for exactly one byte, which must be 'S'. */
function negotiateTls(tcp: net.Socket, endpoint: UpstreamEndpoint): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const cleanup = (): void => {
      tcp.off('data', onData);
      tcp.off('error', onError);
      tcp.off('close', onClose);
    };
    const onError = (err: NodeJS.ErrnoException): void => {
      cleanup();
      reject(unreachable(endpoint, `cannot connect to Redshift at ${endpoint.host}:${endpoint.port}: ${err.code ?? err.message}`,
        'Check --upstream (host and port), that the cluster is running, and that this machine can reach it (VPC, security group, VPN).', err));
    };
    const onClose = (): void => {
      cleanup();
      reject(unreachable(endpoint, 'Redshift closed the connection before answering the TLS request',
        'Check that --upstream points at a Redshift (PostgreSQL protocol) endpoint.'));
    };
    const onData = (chunk: Buffer): void => {
      cleanup();
      tcp.pause();
      if (chunk[0] !== SslAnswer.Yes) {
        reject(unreachable(endpoint, 'the upstream server refused TLS, so no credentials were sent to it',
          'Redshift always offers TLS: check that --upstream points at the Redshift endpoint and not at something in between.'));
        return;
      }
      if (chunk.length > 1) {
        // Bytes after 'S' but before the handshake could be injected by a man in the middle (CVE-2021-23222).
        reject(unreachable(endpoint, 'the upstream server sent unexpected data after agreeing to TLS',
          'Something between the proxy and Redshift is tampering with the connection.'));
        return;
      }
      resolve();
    };
    tcp.on('data', onData);
    tcp.once('error', onError);
    tcp.once('close', onClose);
    tcp.write(SSL_REQUEST);
  });
}

function handshake(tcp: net.Socket, endpoint: UpstreamEndpoint, stage: Stage): Promise<tls.TLSSocket> {
  return new Promise<tls.TLSSocket>((resolve, reject) => {
    const name = endpoint.tlsName ?? endpoint.host;
    const isIp = net.isIP(name) !== 0;
    const socket = tls.connect({
      socket: tcp,
      host: name,
      // SNI must be a host name; for an IP address the certificate is still checked against the IP.
      ...(isIp ? {} : { servername: name }),
      ...(endpoint.secureContext !== undefined ? { secureContext: endpoint.secureContext }
        : { ...CONTEXT_OPTIONS, ca: endpoint.extraCaPem && endpoint.extraCaPem.length > 0 ? [...tls.rootCertificates, ...endpoint.extraCaPem] : undefined }),
      rejectUnauthorized: true,
    });
    stage.current = socket;
    const restoreCertificateRead = leafOnlyDuringHandshake(socket);
    const cleanup = (): void => {
      restoreCertificateRead();
      socket.off('secureConnect', onSecure);
      socket.off('error', onError);
      socket.off('close', onClose);
    };
    // Destroyed by the deadline or an abort (or closed by the server) before the handshake ended.
    const onClose = (): void => {
      cleanup();
      reject(unreachable(endpoint, `the TLS handshake with ${endpoint.host} did not complete`,
        'Check that --upstream points at the Redshift endpoint and that nothing in between intercepts TLS.'));
    };
    const onError = (err: NodeJS.ErrnoException): void => {
      cleanup();
      socket.destroy();
      reject(isCertificateError(err)
        ? unreachable(endpoint, `the TLS certificate of ${name} could not be verified: ${err.message.trim()}`,
          'Connect to the cluster\'s own endpoint name (the certificate names it); for a private CA pass --ca-file PEM.', err)
        : unreachable(endpoint, `the TLS handshake with ${endpoint.host} failed (${err.code ?? err.message.split('\n')[0]?.trim()})`,
          'Check that --upstream points at the Redshift endpoint and that nothing in between intercepts TLS.', err));
    };
    const onSecure = (): void => {
      cleanup();
      resolve(socket);
    };
    socket.once('error', onError);
    socket.once('close', onClose);
    socket.once('secureConnect', onSecure);
  });
}

/**
 * Once OpenSSL has verified the chain, Node checks the host name against the certificate it reads with
 * `getPeerCertificate(true)`: every certificate of the chain turned into a JS object, issuers looked up again in the
 * trust store, fingerprints computed — about 0.4 ms per connection, for a check (tls.checkServerIdentity) that reads
 * only the leaf's subject and subjectAltName. During the handshake this socket answers with the leaf alone
 * (`getPeerCertificate(false)`); the chain is still verified by OpenSSL, and the name by the same check.
 * The override is the socket's own property; the function returned removes it, once the handshake ends either way.
 */
function leafOnlyDuringHandshake(socket: tls.TLSSocket): () => void {
  const leaf = tls.TLSSocket.prototype.getPeerCertificate;
  Object.defineProperty(socket, 'getPeerCertificate', {
    configurable: true, writable: true, enumerable: false,
    value: function leafCertificate(this: tls.TLSSocket): tls.PeerCertificate {
      return leaf.call(this, false);
    },
  });
  return () => {
    delete (socket as Partial<Pick<tls.TLSSocket, 'getPeerCertificate'>>).getPeerCertificate;
  };
}

/** OpenSSL verification failures (as opposed to resets or protocol errors during the handshake). */
function isCertificateError(err: NodeJS.ErrnoException): boolean {
  const code = err.code ?? '';
  return code === 'ERR_TLS_CERT_ALTNAME_INVALID' || /CERT|SELF_SIGNED|UNABLE_TO|DEPTH_ZERO|ISSUER/.test(code);
}
