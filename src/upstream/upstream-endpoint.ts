/** Where Redshift's data plane is and how its certificate is checked. */
export interface UpstreamEndpoint {
  readonly host: string;
  readonly port: number;
  /** Extra trusted CA certificates (PEM), added to Node's root store — never replacing verification. */
  readonly extraCaPem?: readonly string[] | undefined;
  /** Time allowed for TCP connect, SSLRequest answer and TLS handshake together. */
  readonly connectTimeoutMs: number;
}
