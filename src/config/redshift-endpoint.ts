/**
 * Reading cluster, workgroup and region from Redshift endpoint host names:
 *   provisioned: <cluster>.<unique-id>.<region>.redshift.amazonaws.com
 *   serverless:  <workgroup>.<account-id>.<region>.redshift-serverless.amazonaws.com
 * (also the .amazonaws.com.cn partition).
 */

export type EndpointFacts =
  | { readonly kind: 'provisioned'; readonly clusterId: string; readonly region: string }
  | { readonly kind: 'serverless'; readonly workgroup: string; readonly accountId: string; readonly region: string };

const PROVISIONED = /^([a-z][a-z0-9-]*)\.([a-z0-9]+)\.([a-z]{2}(?:-[a-z]+)+-\d)\.redshift\.amazonaws\.com(?:\.cn)?$/i;
const SERVERLESS = /^([a-z][a-z0-9-]*)\.(\d{12})\.([a-z]{2}(?:-[a-z]+)+-\d)\.redshift-serverless\.amazonaws\.com(?:\.cn)?$/i;

export function parseRedshiftHost(host: string): EndpointFacts | undefined {
  const name = host.replace(/\.$/, '');
  const p = PROVISIONED.exec(name);
  if (p) return { kind: 'provisioned', clusterId: (p[1] as string).toLowerCase(), region: (p[3] as string).toLowerCase() };
  const s = SERVERLESS.exec(name);
  if (s) {
    return { kind: 'serverless', workgroup: (s[1] as string).toLowerCase(), accountId: s[2] as string,
      region: (s[3] as string).toLowerCase() };
  }
  return undefined;
}

/** Splits HOST[:PORT] (and [v6]:PORT); the port defaults to Redshift's 5439. */
export function parseHostPort(value: string, defaultPort = 5439): { host: string; port: number } {
  const v6 = /^\[([^\]]+)\](?::(\d+))?$/.exec(value);
  if (v6) return { host: v6[1] as string, port: v6[2] ? Number(v6[2]) : defaultPort };
  const at = value.lastIndexOf(':');
  if (at > 0 && value.indexOf(':') === at) {
    return { host: value.slice(0, at), port: Number(value.slice(at + 1)) };
  }
  return { host: value, port: defaultPort };
}

/** A DNS name that may be a custom domain: dotted, not an IP literal, no port or path. */
export function isDnsName(name: string): boolean {
  return name.includes('.') && !/[\s/:]/.test(name) && !/^[\d.]+$/.test(name);
}

/**
 * The custom domain name a target uses: --custom-domain, else the upstream host when it is a DNS name that is not
 * an AWS endpoint name and neither a cluster id nor a workgroup was given (a CNAME in front of the cluster, as the
 * Redshift JDBC driver treats such hosts); the credential API then finds the cluster by that name, or says it
 * knows none.
 */
export function customDomainOf(t: { readonly customDomain?: string | undefined; readonly upstreamHost?: string | undefined;
  readonly clusterId?: string | undefined; readonly workgroup?: string | undefined }): string | undefined {
  if (t.customDomain !== undefined) return t.customDomain;
  const host = t.upstreamHost?.replace(/\.$/, '');
  if (!host || t.clusterId || t.workgroup || parseRedshiftHost(host) || !isDnsName(host)) return undefined;
  return host.toLowerCase();
}
