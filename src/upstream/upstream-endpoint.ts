import type { SecureContext } from 'node:tls';

/** Where Redshift's data plane is and how its certificate is checked. */
export interface UpstreamEndpoint {
  readonly host: string;
  readonly port: number;
  /** Extra trusted CA certificates (PEM), added to Node's root store — never replacing verification. */
  readonly extraCaPem?: readonly string[] | undefined;
  /**
   * The trust store made once from Node's roots plus extraCaPem (see trustStore in connect-tls.ts) and shared by
   * every connection to this endpoint: building it parses ~150 certificates, ~30 ms of CPU per connection.
   */
  readonly secureContext?: SecureContext | undefined;
  /** Time allowed for TCP connect, SSLRequest answer and TLS handshake together. */
  readonly connectTimeoutMs: number;
  /** Told how long a successful connection took to open (TCP + SSLRequest + TLS), for metrics. */
  readonly onConnected?: ((ms: number) => void) | undefined;
}
