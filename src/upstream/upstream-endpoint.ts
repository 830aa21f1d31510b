import type { SecureContext } from 'node:tls';
import type { AddressCache } from './address-cache.js';

/** Where Redshift's data plane is and how its certificate is checked. */
export interface UpstreamEndpoint {
  readonly host: string;
  readonly port: number;
  /**
   * The name the server's certificate must carry, when it is not `host`: a custom domain name (--custom-domain)
   * reached through another address. Sent as SNI and checked as the host name; absent: `host`.
   */
  readonly tlsName?: string | undefined;
  /** Extra trusted CA certificates (PEM), added to Node's root store — never replacing verification. */
  readonly extraCaPem?: readonly string[] | undefined;
  /**
   * The trust store made once from Node's roots plus extraCaPem (see trustStore in connect-tls.ts) and shared by
   * every connection to this endpoint: building it parses ~150 certificates, ~30 ms of CPU per connection (and
   * ~1 ms even with Node's default store alone). Absent: built per connection from extraCaPem.
   */
  readonly secureContext?: SecureContext | undefined;
  /**
   * The host's addresses, shared by every connection to this endpoint (see address-cache.ts); absent: each
   * connection looks the name up.
   */
  readonly addresses?: AddressCache | undefined;
  /** Time allowed for TCP connect, SSLRequest answer and TLS handshake together. */
  readonly connectTimeoutMs: number;
  /** Told how long a successful connection took to open (TCP + SSLRequest + TLS), for metrics. */
  readonly onConnected?: ((ms: number) => void) | undefined;
}
