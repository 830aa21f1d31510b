/**
 * Fills the Config from parsed command-line flags (yargs has already merged REDSHIFT_AUTH_PROXY_* environment
 * variables). Pure: no I/O, so command tests can run the real parser and check the result.
 */
import { DEFAULTS } from './config.js';
import type { Config, TargetConfig } from './config.js';
import { parseHostPort } from './redshift-endpoint.js';

/** The flags, as yargs hands them over (kebab-case names have camelCase twins; we read the camelCase ones). */
export interface Flags {
  listen?: string;
  upstream?: string;
  clusterId?: string;
  workgroup?: string;
  region?: string;
  dbUser?: string;
  dbName?: string;
  dbGroups?: string;
  autoCreate?: boolean;
  duration?: number;
  withIam?: boolean;
  profile?: string;
  assumeRole?: string;
  externalId?: string;
  awsEndpointUrl?: string;
  caFile?: string;
  allowedUsers?: string;
  startupTimeout?: number;
  connectTimeout?: number;
  logLevel?: string;
}

function list(value: string | undefined): string[] {
  return (value ?? '').split(',').map((s) => s.trim()).filter((s) => s.length > 0);
}

export function configFromFlags(flags: Flags): Config {
  const listen = parseHostPort(flags.listen ?? DEFAULTS.listen);
  const upstream = flags.upstream ? parseHostPort(flags.upstream) : undefined;
  const allowed = list(flags.allowedUsers);
  const target: TargetConfig = {
    upstreamHost: upstream?.host,
    upstreamPort: upstream?.port ?? 5439,
    clusterId: flags.clusterId,
    workgroup: flags.workgroup,
    region: flags.region,
    dbUser: flags.dbUser,
    dbName: flags.dbName,
    dbGroups: list(flags.dbGroups),
    autoCreate: flags.autoCreate ?? false,
    durationSeconds: flags.duration,
    withIam: flags.withIam ?? false,
    profile: flags.profile,
    assumeRoleArn: flags.assumeRole,
    externalId: flags.externalId,
    awsEndpointUrl: flags.awsEndpointUrl,
    caFile: flags.caFile,
    allowedUsers: allowed.length > 0 ? allowed : undefined,
  };
  return {
    listeners: [{ host: listen.host, port: listen.port, target }],
    startupTimeoutMs: (flags.startupTimeout ?? DEFAULTS.startupTimeoutMs / 1000) * 1000,
    connectTimeoutMs: (flags.connectTimeout ?? DEFAULTS.connectTimeoutMs / 1000) * 1000,
    maxStartupPacket: DEFAULTS.maxStartupPacket,
    logLevel: (flags.logLevel ?? DEFAULTS.logLevel) as Config['logLevel'],
  };
}
