/**
 * Where each flag lives in a config file: at the top level (a global, or every listener's default) and/or in a
 * listener (under its target block for target settings). One precedence: flag > environment > listener > top
 * level. test/config/file-keys.test.ts walks every flag of the command line against this table and checks that the
 * key gives the same Config as the flag, so a new flag cannot go without its key.
 */
export interface FileKey {
  /** Key at the top level. */
  readonly top?: string;
  /** Key inside a listener (target settings under `target.`). */
  readonly listener?: string;
}

const target = (key: string): FileKey => ({ top: key, listener: `target.${key}` });

export const FLAG_FILE_KEYS: Readonly<Record<string, FileKey>> = {
  // Globals.
  'http-listen': { top: 'httpListen' },
  'shutdown-grace': { top: 'shutdownGrace' },
  'max-connections': { top: 'maxConnections' },
  'lazy-refresh': { top: 'lazyRefresh' },
  'exit-zero-on-sigterm': { top: 'exitZeroOnSigterm' },
  heal: { top: 'heal' },
  warm: { top: 'warm' },
  'warm-total': { top: 'warmTotal' },
  'warm-idle': { top: 'warmIdle' },
  'max-upstream-connections': { top: 'maxUpstreamConnections' },
  'allow-plaintext-network': { top: 'allowPlaintextNetwork' },
  'http-token-file': { top: 'httpTokenFile' },
  'idle-release': { top: 'idleRelease' },
  'startup-timeout': { top: 'startupTimeout' },
  'connect-timeout': { top: 'connectTimeout' },
  'log-level': { top: 'logLevel' },
  'log-format': { top: 'logFormat' },
  'sign-in-wait': { top: 'signInWait' },
  browser: { top: 'noBrowser' }, // --no-browser is noBrowser: true
  'sign-in-port': { top: 'signInPort' },
  'sso-start-url': { top: 'ssoStartUrl' },
  'sso-region': { top: 'ssoRegion' },
  // Where a listener is: its own only.
  listen: { listener: 'listen' },
  'unix-socket': { listener: 'unixSocket' },
  // Client authentication and TLS: a listener's, or every listener's from the top level.
  'client-password': { top: 'clientAuth.password', listener: 'clientAuth.password' },
  'client-password-file': { top: 'clientAuth.passwordFile', listener: 'clientAuth.passwordFile' },
  'client-ca': { top: 'clientAuth.caFile', listener: 'clientAuth.caFile' },
  'client-tls-cert': { top: 'clientTls.cert', listener: 'clientTls.cert' },
  'client-tls-key': { top: 'clientTls.key', listener: 'clientTls.key' },
  'client-tls-require': { top: 'clientTls.require', listener: 'clientTls.require' },
  // The target: a listener's, or every listener's default from the top level.
  upstream: target('upstream'),
  'cluster-id': target('clusterId'),
  workgroup: target('workgroup'),
  'custom-domain': target('customDomain'),
  region: target('region'),
  'with-iam': target('withIam'),
  'db-user': target('dbUser'),
  'db-user-from-identity': target('dbUserFromIdentity'),
  'db-name': target('dbName'),
  'db-groups': target('dbGroups'),
  'auto-create': target('autoCreate'),
  duration: target('duration'),
  profile: target('profile'),
  'assume-role': target('assumeRole'),
  'external-id': target('externalId'),
  'role-session-name': target('roleSessionName'),
  'aws-endpoint-url': target('awsEndpointUrl'),
  'ca-file': target('caFile'),
  'allowed-users': target('allowedUsers'),
  'idc-issuer-url': target('idcIssuerUrl'),
  'idc-region': target('idcRegion'),
  'idc-namespace': target('idcNamespace'),
  'idc-display-name': target('idcDisplayName'),
  'idc-token-command': target('idcTokenCommand'),
};

/** Flags that steer one run of a command and have no place in a config file. */
export const COMMAND_ONLY_FLAGS: readonly string[] = [
  'config', // the file itself
  'user', 'database', 'listener', 'format', // check and creds: whom to act as, what to print
  'timeout', // wait
  'systemd', 'launchd', // service print
  'help', 'version',
];
