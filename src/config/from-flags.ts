/**
 * Fills the Config from parsed command-line flags (yargs has already merged REDSHIFT_AUTH_PROXY_* environment
 * variables, flags winning), on top of a config file's Config when one was given: flags > env > file > defaults.
 * Pure: no I/O, so command tests can run the real parser and check the result.
 */
import { DEFAULTS } from './config.js';
import type { Config, HttpListenConfig, ListenerConfig, TargetConfig } from './config.js';
import { parseHostPort } from './redshift-endpoint.js';

/**
 * The flags, as yargs hands them over (kebab-case names have camelCase twins; we read the camelCase ones).
 * A flag is undefined when neither the command line nor the environment set it: no yargs defaults, so that a
 * config file's value is not overwritten by a default.
 */
export interface Flags {
  listen?: string;
  unixSocket?: string;
  upstream?: string;
  clusterId?: string;
  workgroup?: string;
  customDomain?: string;
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
  roleSessionName?: string;
  awsEndpointUrl?: string;
  caFile?: string;
  allowedUsers?: string;
  idcIssuerUrl?: string;
  idcRegion?: string;
  idcNamespace?: string;
  idcDisplayName?: string;
  idcTokenCommand?: string;
  dbUserFromIdentity?: boolean;
  signInWait?: number;
  browser?: boolean;
  signInPort?: number;
  ssoStartUrl?: string;
  ssoRegion?: string;
  startupTimeout?: number;
  idleRelease?: number;
  clientPassword?: string;
  clientPasswordFile?: string;
  clientCa?: string;
  clientTlsCert?: string;
  clientTlsKey?: string;
  clientTlsRequire?: boolean;
  warm?: number;
  warmTotal?: number;
  warmIdle?: number;
  maxUpstreamConnections?: number;
  allowPlaintextNetwork?: boolean;
  httpTokenFile?: string;
  heal?: boolean;
  connectTimeout?: number;
  shutdownGrace?: number;
  maxConnections?: number;
  httpListen?: string;
  exitZeroOnSigterm?: boolean;
  lazyRefresh?: boolean;
  logLevel?: string;
  logFormat?: string;
}

/** Flags that say where one listener is or what it reaches: meaningless for a file with several listeners. */
export const PER_LISTENER_FLAGS = ['listen', 'unixSocket', 'upstream', 'clusterId', 'workgroup'] as const;

function list(value: string | undefined): string[] {
  return (value ?? '').split(',').map((s) => s.trim()).filter((s) => s.length > 0);
}

/** HOST:PORT, or just PORT (then on loopback). */
export function parseHttpListen(value: string): HttpListenConfig {
  if (/^\d+$/.test(value)) return { host: DEFAULTS.httpHost, port: Number(value) };
  return parseHostPort(value, Number.NaN);
}

/** Only the target settings the flags (or env) actually set. */
function targetOverrides(flags: Flags): Partial<TargetConfig> {
  const upstream = flags.upstream ? parseHostPort(flags.upstream) : undefined;
  const allowed = list(flags.allowedUsers);
  const o: Partial<TargetConfig> = {
    upstreamHost: upstream?.host,
    upstreamPort: upstream?.port,
    clusterId: flags.clusterId,
    workgroup: flags.workgroup,
    customDomain: flags.customDomain,
    region: flags.region,
    dbUser: flags.dbUser,
    dbName: flags.dbName,
    dbGroups: flags.dbGroups !== undefined ? list(flags.dbGroups) : undefined,
    autoCreate: flags.autoCreate,
    durationSeconds: flags.duration,
    withIam: flags.withIam,
    profile: flags.profile,
    assumeRoleArn: flags.assumeRole,
    externalId: flags.externalId,
    roleSessionName: flags.roleSessionName,
    awsEndpointUrl: flags.awsEndpointUrl,
    caFile: flags.caFile,
    allowedUsers: flags.allowedUsers !== undefined ? allowed : undefined,
    idcIssuerUrl: flags.idcIssuerUrl,
    idcRegion: flags.idcRegion,
    idcNamespace: flags.idcNamespace,
    idcDisplayName: flags.idcDisplayName,
    idcTokenCommand: flags.idcTokenCommand,
    dbUserFromIdentity: flags.dbUserFromIdentity,
  };
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<TargetConfig>;
}

function listenerFromFlags(flags: Flags, base: ListenerConfig | undefined): ListenerConfig {
  const target: TargetConfig = {
    upstreamPort: 5439, dbGroups: [], autoCreate: false, withIam: false,
    ...base?.target,
    ...targetOverrides(flags),
  };
  if (target.allowedUsers?.length === 0) target.allowedUsers = undefined;
  const l: ListenerConfig = base ? { ...base, target } : { ...parseHostPort(DEFAULTS.listen), target };
  if (flags.listen !== undefined) {
    Object.assign(l, parseHostPort(flags.listen));
    l.unixSocket = undefined;
  }
  if (flags.unixSocket !== undefined) l.unixSocket = flags.unixSocket;
  if (flags.clientPassword !== undefined || flags.clientPasswordFile !== undefined || flags.clientCa !== undefined) {
    l.clientAuth = {
      ...l.clientAuth,
      ...(flags.clientPassword !== undefined ? { password: flags.clientPassword } : {}),
      ...(flags.clientPasswordFile !== undefined ? { passwordFile: flags.clientPasswordFile } : {}),
      ...(flags.clientCa !== undefined ? { caFile: flags.clientCa } : {}),
    };
  }
  if (flags.clientTlsCert !== undefined || flags.clientTlsKey !== undefined || flags.clientTlsRequire !== undefined) {
    l.clientTls = {
      certFile: flags.clientTlsCert ?? l.clientTls?.certFile ?? '',
      keyFile: flags.clientTlsKey ?? l.clientTls?.keyFile ?? '',
      require: flags.clientTlsRequire ?? l.clientTls?.require ?? false,
    };
  }
  return l;
}

/**
 * The Config: `base` (from a config file) with every flag that was set laid over it. Target flags apply to
 * every listener of the file (a shared --profile, --region…); PER_LISTENER_FLAGS need a file with one listener
 * (checked by the CLI before calling this).
 */
export function configFromFlags(flags: Flags, base?: Config): Config {
  const listeners = base && base.listeners.length > 0
    ? base.listeners.map((l) => listenerFromFlags(flags, l))
    : [listenerFromFlags(flags, undefined)];
  const seconds = (value: number | undefined, fallbackMs: number | undefined): number | undefined =>
    value !== undefined ? value * 1000 : fallbackMs;
  return {
    listeners,
    startupTimeoutMs: seconds(flags.startupTimeout, base?.startupTimeoutMs) ?? DEFAULTS.startupTimeoutMs,
    connectTimeoutMs: seconds(flags.connectTimeout, base?.connectTimeoutMs) ?? DEFAULTS.connectTimeoutMs,
    maxStartupPacket: base?.maxStartupPacket ?? DEFAULTS.maxStartupPacket,
    logLevel: (flags.logLevel ?? base?.logLevel ?? DEFAULTS.logLevel) as Config['logLevel'],
    logFormat: (flags.logFormat ?? base?.logFormat ?? DEFAULTS.logFormat) as Config['logFormat'],
    shutdownGraceMs: seconds(flags.shutdownGrace, base?.shutdownGraceMs) ?? DEFAULTS.shutdownGraceMs,
    maxConnections: flags.maxConnections ?? base?.maxConnections,
    idleReleaseMs: seconds(flags.idleRelease, base?.idleReleaseMs),
    warm: flags.warm ?? base?.warm,
    warmTotal: flags.warmTotal ?? base?.warmTotal,
    warmIdleMs: seconds(flags.warmIdle, base?.warmIdleMs),
    maxUpstreamConnections: flags.maxUpstreamConnections ?? base?.maxUpstreamConnections,
    allowPlaintextNetwork: flags.allowPlaintextNetwork ?? base?.allowPlaintextNetwork,
    httpTokenFile: flags.httpTokenFile ?? base?.httpTokenFile,
    heal: flags.heal ?? base?.heal,
    httpListen: flags.httpListen !== undefined ? parseHttpListen(flags.httpListen) : base?.httpListen,
    signInWaitMs: seconds(flags.signInWait, base?.signInWaitMs),
    // yargs turns --no-browser into browser: false.
    noBrowser: flags.browser !== undefined ? !flags.browser : base?.noBrowser,
    signInPort: flags.signInPort ?? base?.signInPort,
    ssoStartUrl: flags.ssoStartUrl ?? base?.ssoStartUrl,
    ssoRegion: flags.ssoRegion ?? base?.ssoRegion,
    exitZeroOnSigterm: flags.exitZeroOnSigterm ?? base?.exitZeroOnSigterm,
    lazyRefresh: flags.lazyRefresh ?? base?.lazyRefresh,
  };
}
