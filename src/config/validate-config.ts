/**
 * One pure check of a filled Config. The rules are written once, as problems that name a field; they are rendered
 * with flag names for the command line (validateConfig) or with config-file keys and line numbers (load-file.ts),
 * so the CLI can print every problem at once and exit with status 2.
 */
import net from 'node:net';
import type { Config, ListenerConfig, TargetConfig } from './config.js';
import { customDomainOf, isDnsName, parseRedshiftHost } from './redshift-endpoint.js';

/** A field a rule can point at: a target key, a listener key, or a global key. */
export type ConfigField =
  | `target.${keyof TargetConfig}`
  | 'listen' | 'unixSocket' | 'listener.maxConnections' | 'clientAuth' | 'clientTls'
  | 'startupTimeoutMs' | 'connectTimeoutMs' | 'shutdownGraceMs' | 'idleReleaseMs' | 'maxConnections' | 'httpListen'
  | 'signInWaitMs' | 'signInPort' | 'ssoStartUrl' | 'ssoRegion'
  | 'warmTotal' | 'warmIdleMs' | 'maxUpstreamConnections' | 'allowPlaintextNetwork' | 'httpTokenFile' | 'lazyRefresh';

export interface ConfigProblem {
  /** Index in config.listeners, when the problem is about one listener. */
  readonly listener?: number | undefined;
  /** The field the sentence is about; the renderer puts its name first. */
  readonly field?: ConfigField | undefined;
  /** The rest of the sentence, e.g. "must be a whole number of seconds from 900 to 3600". */
  readonly message: string;
}

/** Names a field as the user wrote it (a flag, or a config-file key). */
export type FieldNamer = (field: ConfigField) => string;

const FLAG_NAMES: Record<ConfigField, string> = {
  'target.upstreamHost': '--upstream', 'target.upstreamPort': '--upstream', 'target.clusterId': '--cluster-id',
  'target.workgroup': '--workgroup', 'target.customDomain': '--custom-domain', 'target.region': '--region', 'target.dbUser': '--db-user',
  'target.dbName': '--db-name', 'target.dbGroups': '--db-groups', 'target.autoCreate': '--auto-create',
  'target.durationSeconds': '--duration', 'target.withIam': '--with-iam', 'target.profile': '--profile',
  'target.assumeRoleArn': '--assume-role', 'target.externalId': '--external-id', 'target.roleSessionName': '--role-session-name',
  'target.awsEndpointUrl': '--aws-endpoint-url', 'target.caFile': '--ca-file', 'target.allowedUsers': '--allowed-users',
  'target.users': 'users (config file)', 'target.idcIssuerUrl': '--idc-issuer-url', 'target.idcRegion': '--idc-region',
  'target.idcNamespace': '--idc-namespace', 'target.idcDisplayName': '--idc-display-name',
  'target.idcTokenCommand': '--idc-token-command', listen: '--listen', unixSocket: '--unix-socket',
  'listener.maxConnections': '--max-connections', clientAuth: '--client-password/--client-ca',
  clientTls: '--client-tls-cert/--client-tls-key', startupTimeoutMs: '--startup-timeout',
  connectTimeoutMs: '--connect-timeout', shutdownGraceMs: '--shutdown-grace', idleReleaseMs: '--idle-release', maxConnections: '--max-connections',
  httpListen: '--http-listen', 'target.dbUserFromIdentity': '--db-user-from-identity', signInWaitMs: '--sign-in-wait',
  signInPort: '--sign-in-port', ssoStartUrl: '--sso-start-url', ssoRegion: '--sso-region', lazyRefresh: '--lazy-refresh',
  warmTotal: '--warm-total', warmIdleMs: '--warm-idle', maxUpstreamConnections: '--max-upstream-connections',
  allowPlaintextNetwork: '--allow-plaintext-network', httpTokenFile: '--http-token-file',
};

export const flagName: FieldNamer = (field) => FLAG_NAMES[field];

export function isLoopback(host: string): boolean {
  if (host === 'localhost') return true;
  if (net.isIPv4(host)) return host.startsWith('127.');
  return host === '::1';
}

/** Longest Unix socket path the kernel accepts (sun_path is 108 bytes on Linux, 104 on macOS, NUL included). */
const MAX_SOCKET_PATH = 103;

function checkTarget(t: TargetConfig, n: FieldNamer): ConfigProblem[] {
  if (isIdcTarget(t)) return checkIdcTarget(t, n);
  const out: ConfigProblem[] = [];
  const p = (field: ConfigField, message: string): void => {
    out.push({ field, message });
  };
  for (const field of ['idcRegion', 'idcNamespace', 'idcDisplayName'] as const) {
    if (t[field] !== undefined) p(`target.${field}`, `needs ${n('target.idcIssuerUrl')} or ${n('target.idcTokenCommand')} (an Identity Center listener)`);
  }
  if (!t.upstreamHost && !t.clusterId && !t.workgroup && !t.customDomain) {
    p('target.upstreamHost', `is missing: give ${n('target.upstreamHost')} HOST[:PORT], ${n('target.clusterId')} or ${n('target.workgroup')}`);
  }
  if (t.upstreamHost && !t.clusterId && !t.workgroup && !customDomainOf(t) && !parseRedshiftHost(t.upstreamHost)) {
    p('target.upstreamHost', `${t.upstreamHost} is not a Redshift endpoint name, so give ${n('target.clusterId')} (or ${n('target.workgroup')})`);
  }
  if (t.customDomain !== undefined && !isDnsName(t.customDomain)) {
    p('target.customDomain', 'must be a DNS name such as analytics.example.com');
  }
  if (t.clusterId && t.workgroup) p('target.clusterId', `cannot be used with ${n('target.workgroup')}`);
  if (t.withIam && t.dbUser) p('target.dbUser', `cannot be used with ${n('target.withIam')} (the IAM identity is the database user)`);
  if (t.withIam && t.workgroup) {
    p('target.withIam', 'is for provisioned clusters; Serverless always uses the IAM identity');
  }
  if (t.workgroup && (t.dbGroups.length > 0 || t.autoCreate)) {
    p(t.dbGroups.length > 0 ? 'target.dbGroups' : 'target.autoCreate',
      `applies to provisioned clusters only (${n('target.dbGroups')}, ${n('target.autoCreate')})`);
  }
  if (t.durationSeconds !== undefined && (!Number.isInteger(t.durationSeconds) || t.durationSeconds < 900 || t.durationSeconds > 3600)) {
    p('target.durationSeconds', 'must be a whole number of seconds from 900 to 3600');
  }
  if (!Number.isInteger(t.upstreamPort) || t.upstreamPort < 1 || t.upstreamPort > 65535) {
    p('target.upstreamPort', 'port must be 1–65535');
  }
  if (t.awsEndpointUrl && !/^https?:\/\/[^/]/.test(t.awsEndpointUrl)) p('target.awsEndpointUrl', 'must be an http(s) URL');
  if (t.externalId && !t.assumeRoleArn) p('target.externalId', `needs ${n('target.assumeRoleArn')}`);
  if (t.roleSessionName && !t.assumeRoleArn) p('target.roleSessionName', `needs ${n('target.assumeRoleArn')}`);
  if (t.roleSessionName && !/^[\w+=,.@-]{2,64}$/.test(t.roleSessionName)) {
    p('target.roleSessionName', 'must be 2–64 characters of letters, digits and +=,.@_-');
  }
  const users = Object.entries(t.users ?? {});
  if (users.length > 0 && (t.withIam || t.workgroup)) {
    p('target.users', `maps local users to database users, which ${t.withIam ? n('target.withIam') : 'Serverless'} does not allow (the IAM identity is the database user)`);
  }
  for (const [name, u] of users) {
    if (u.dbUser !== undefined && u.dbUser.length === 0) p('target.users', `${name}: dbUser must not be empty`);
  }
  if (t.dbUserFromIdentity) {
    const clash = t.dbUser !== undefined ? 'target.dbUser' : t.withIam ? 'target.withIam' : t.workgroup ? 'target.workgroup'
      : users.length > 0 ? 'target.users' : undefined;
    if (clash) p('target.dbUserFromIdentity', `cannot be used with ${n(clash)} (it names the database user itself)`);
  }
  return out;
}

function checkListener(l: ListenerConfig, n: FieldNamer, allowPlaintext: boolean): ConfigProblem[] {
  const out: ConfigProblem[] = [];
  if (l.unixSocket !== undefined) {
    if (!l.unixSocket.startsWith('/')) out.push({ field: 'unixSocket', message: 'must be an absolute path' });
    if (Buffer.byteLength(l.unixSocket) > MAX_SOCKET_PATH) {
      out.push({ field: 'unixSocket', message: `is longer than ${MAX_SOCKET_PATH} bytes, the limit for a socket path` });
    }
  } else {
    if (!Number.isInteger(l.port) || l.port < 0 || l.port > 65535) out.push({ field: 'listen', message: 'port must be 0–65535' });
    const authenticated = Boolean(l.clientAuth?.password || l.clientAuth?.passwordFile || l.clientAuth?.caFile);
    if (!isLoopback(l.host) && !authenticated) {
      out.push({ field: 'listen', message: `${l.host} is not a loopback address: anyone who can reach it would be logged in to Redshift, so configure client authentication (${n('clientAuth')}), or listen on loopback (127.0.0.1, ::1, localhost) or a Unix socket (${n('unixSocket')})` });
    } else if (!isLoopback(l.host) && !l.clientTls && !allowPlaintext) {
      out.push({ field: 'listen', message: `${l.host} is not a loopback address and the listener has no client TLS: queries and results would cross the network in the clear, so give ${n('clientTls')} (or, knowingly, ${n('allowPlaintextNetwork')})` });
    }
  }
  if (l.clientAuth?.caFile && !l.clientTls) {
    out.push({ field: 'clientAuth', message: `a client CA needs client TLS (${n('clientTls')}): certificates are only checked over TLS` });
  }
  if (l.clientTls && (!l.clientTls.certFile || !l.clientTls.keyFile)) {
    out.push({ field: 'clientTls', message: 'needs both a certificate and a key file' });
  }
  if (l.maxConnections !== undefined && (!Number.isInteger(l.maxConnections) || l.maxConnections < 1)) {
    out.push({ field: 'listener.maxConnections', message: 'must be a whole number from 1' });
  }
  return out;
}

/** Every problem of the config, each naming its field through `n`. */
export function findProblems(config: Config, n: FieldNamer = flagName): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  if (config.listeners.length === 0) problems.push({ message: 'no listener configured' });
  const seen = new Set<string>();
  config.listeners.forEach((l, i) => {
    const mine: ConfigProblem[] = [];
    const key = l.unixSocket ?? `${l.host}:${l.port}`;
    if ((l.unixSocket !== undefined || l.port !== 0) && seen.has(key)) {
      mine.push({ field: l.unixSocket !== undefined ? 'unixSocket' : 'listen', message: `${key} is used by two listeners` });
    }
    seen.add(key);
    mine.push(...checkListener(l, n, config.allowPlaintextNetwork === true), ...checkTarget(l.target, n));
    problems.push(...mine.map((p) => ({ ...p, listener: i })));
  });
  const positive = (field: ConfigField, value: number | undefined): void => {
    if (value !== undefined && !(value > 0)) problems.push({ field, message: 'must be positive' });
  };
  positive('startupTimeoutMs', config.startupTimeoutMs);
  positive('connectTimeoutMs', config.connectTimeoutMs);
  positive('idleReleaseMs', config.idleReleaseMs);
  if (config.shutdownGraceMs !== undefined && !(config.shutdownGraceMs >= 0)) {
    problems.push({ field: 'shutdownGraceMs', message: 'must be zero or more seconds' });
  }
  if (config.signInWaitMs !== undefined && !(config.signInWaitMs >= 0)) {
    problems.push({ field: 'signInWaitMs', message: 'must be zero (off) or more seconds' });
  }
  if (config.signInPort !== undefined && (!Number.isInteger(config.signInPort) || config.signInPort < 0 || config.signInPort > 65535)) {
    problems.push({ field: 'signInPort', message: 'must be a port number 0–65535' });
  }
  if ((config.ssoStartUrl === undefined) !== (config.ssoRegion === undefined)) {
    problems.push({ field: config.ssoStartUrl === undefined ? 'ssoStartUrl' : 'ssoRegion',
      message: config.ssoStartUrl === undefined ? 'is needed with --sso-region' : 'is needed with --sso-start-url' });
  }
  if (config.ssoStartUrl !== undefined && !/^https:\/\/\S+$/.test(config.ssoStartUrl)) {
    problems.push({ field: 'ssoStartUrl', message: 'must be an https:// URL (the AWS access portal URL, e.g. https://d-1234567890.awsapps.com/start)' });
  }
  const whole = (field: ConfigField, value: number | undefined): void => {
    if (value !== undefined && (!Number.isInteger(value) || value < 1)) problems.push({ field, message: 'must be a whole number from 1' });
  };
  whole('maxConnections', config.maxConnections);
  whole('warmTotal', config.warmTotal);
  whole('maxUpstreamConnections', config.maxUpstreamConnections);
  positive('warmIdleMs', config.warmIdleMs);
  if (config.lazyRefresh && config.warm !== undefined && config.warm > 0) {
    problems.push({ field: 'lazyRefresh', message: 'cannot be used with --warm, which keeps logged-in connections ready in the background' });
  }
  const http = config.httpListen;
  if (http && (!Number.isInteger(http.port) || http.port < 0 || http.port > 65535)) {
    problems.push({ field: 'httpListen', message: 'port must be 0–65535' });
  }
  if (http && !isLoopback(http.host) && !config.httpTokenFile) {
    problems.push({ field: 'httpListen', message: `${http.host} is not a loopback address: the endpoint shows user names, the cluster and metrics, so give ${n('httpTokenFile')} (a file holding a bearer token clients must send), or listen on loopback` });
  }
  if (config.httpTokenFile && !http) problems.push({ field: 'httpTokenFile', message: `needs ${n('httpListen')}` });
  return problems;
}

/** The problems as command-line sentences: "--duration must be …", prefixed by the listener when there are several. */
export function validateConfig(config: Config): string[] {
  return findProblems(config, flagName).map((p) => {
    const l = p.listener !== undefined ? config.listeners[p.listener] : undefined;
    const where = l && config.listeners.length > 1 ? `listener ${(p.listener ?? 0) + 1} (${l.name ?? l.unixSocket ?? `${l.host}:${l.port}`}): ` : '';
    return `${where}${p.field ? `${flagName(p.field)} ` : ''}${p.message}`;
  });
}

/** A listener that logs in with Redshift's own IAM Identity Center integration (AUTH_REQ_IDP) rather than IAM credentials. */
export function isIdcTarget(t: TargetConfig): boolean {
  return t.idcIssuerUrl !== undefined || t.idcTokenCommand !== undefined;
}

/**
 * Settings that choose or shape a GetClusterCredentials / GetCredentials call, which an Identity Center login never
 * makes: each is refused with the reason rather than silently ignored. */
const NOT_FOR_IDC: ReadonlyArray<readonly [keyof TargetConfig, (t: TargetConfig) => boolean, string]> = [
  ['dbUser', (t) => t.dbUser !== undefined, 'the database user is the person the token names (AWSIDC:<user>)'],
  ['withIam', (t) => t.withIam, 'the token, not an IAM identity, names the database user'],
  ['clusterId', (t) => t.clusterId !== undefined, 'it names the cluster for the credential APIs; give its endpoint with --upstream'],
  ['workgroup', (t) => t.workgroup !== undefined, 'it names the workgroup for GetCredentials; give its endpoint with --upstream'],
  ['dbGroups', (t) => t.dbGroups.length > 0, 'group membership comes from the Identity Center directory'],
  ['autoCreate', (t) => t.autoCreate, 'Redshift creates Identity Center users itself'],
  ['durationSeconds', (t) => t.durationSeconds !== undefined, 'the token\'s lifetime is set by Identity Center'],
  ['profile', (t) => t.profile !== undefined, 'no AWS credentials are used: no credential API is called'],
  ['assumeRoleArn', (t) => t.assumeRoleArn !== undefined, 'no AWS credentials are used: no credential API is called'],
  ['users', (t) => Object.keys(t.users ?? {}).length > 0, 'every local user connects as the signed-in person'],
];

function checkIdcTarget(t: TargetConfig, n: FieldNamer): ConfigProblem[] {
  const out: ConfigProblem[] = [];
  const p = (field: ConfigField, message: string): void => {
    out.push({ field, message });
  };
  const idc = n(t.idcIssuerUrl !== undefined ? 'target.idcIssuerUrl' : 'target.idcTokenCommand');
  for (const [key, set, why] of NOT_FOR_IDC) {
    if (set(t)) p(`target.${key}`, `cannot be used with ${idc}: ${why}`);
  }
  if (!t.upstreamHost) {
    p('target.upstreamHost', `is missing: an Identity Center listener logs in at the endpoint itself, so give ${n('target.upstreamHost')} HOST[:PORT] (the cluster's or the workgroup's endpoint)`);
  }
  if (!Number.isInteger(t.upstreamPort) || t.upstreamPort < 1 || t.upstreamPort > 65535) {
    p('target.upstreamPort', 'port must be 1–65535');
  }
  if (t.idcIssuerUrl !== undefined) {
    if (!/^https?:\/\/[^/]/.test(t.idcIssuerUrl)) p('target.idcIssuerUrl', 'must be an http(s) URL, e.g. https://identitycenter.amazonaws.com/ssoins-1234567890abcdef');
    if (t.idcRegion === undefined) p('target.idcRegion', `is missing: give the region of the Identity Center instance with ${n('target.idcRegion')}`);
  } else if (t.idcRegion !== undefined) {
    p('target.idcRegion', `needs ${n('target.idcIssuerUrl')} (the sign-in it names the region of)`);
  }
  // The drivers check idc_region the same way (BrowserIdcAuthPlugin REGION_PATTERN).
  if (t.idcRegion !== undefined && !/^[a-z]{2,3}(-[a-z]+)+-\d+$/.test(t.idcRegion)) p('target.idcRegion', 'is not an AWS region name (like us-east-1)');
  if (t.idcTokenCommand !== undefined && t.idcTokenCommand.trim() === '') p('target.idcTokenCommand', 'must not be empty');
  if (t.awsEndpointUrl && !/^https?:\/\/[^/]/.test(t.awsEndpointUrl)) p('target.awsEndpointUrl', 'must be an http(s) URL');
  for (const [field, value] of [['target.idcNamespace', t.idcNamespace], ['target.idcDisplayName', t.idcDisplayName]] as const) {
    if (value !== undefined && (value.length === 0 || value.includes('\0'))) p(field, 'must be non-empty text without NUL characters');
  }
  return out;
}
