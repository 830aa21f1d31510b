/**
 * Every flag has its place in the config file. The walk takes the flags from the real command-line parser, so a
 * flag added there without a file key (src/config/file-keys.ts) and a sample here fails this test. For each flag
 * the Config it gives on the command line equals the Config of a file with its key at the top level and with its key
 * in the listener, through the real parser and loader; and the listener's value wins over the top level's.
 */
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { buildParser } from '../../src/cli.js';
import { COMMANDS } from '../../src/cli/commands.js';
import { COMMAND_ONLY_FLAGS, FLAG_FILE_KEYS } from '../../src/config/file-keys.js';
import { configFromFlags } from '../../src/config/from-flags.js';
import type { Flags } from '../../src/config/from-flags.js';
import { parseConfigFile } from '../../src/config/load-file.js';

/** A value for each flag, on the command line and in YAML (paths absolute: a file's relative paths are its own). */
const SAMPLES: Record<string, { readonly args: readonly string[]; readonly value: unknown; readonly with?: Record<string, unknown>;
  readonly negated?: boolean }> = {
  'http-listen': { args: ['127.0.0.1:9999'], value: '127.0.0.1:9999' },
  'shutdown-grace': { args: ['3'], value: 3 },
  'max-connections': { args: ['7'], value: 7 },
  'lazy-refresh': { args: [], value: true },
  'exit-zero-on-sigterm': { args: [], value: true },
  heal: { args: [], value: false },
  warm: { args: ['2'], value: 2 },
  'warm-total': { args: ['9'], value: 9 },
  'warm-idle': { args: ['120'], value: 120 },
  'max-upstream-connections': { args: ['50'], value: 50 },
  'allow-plaintext-network': { args: [], value: true },
  'http-token-file': { args: ['/etc/rap/http-token'], value: '/etc/rap/http-token' },
  'idle-release': { args: ['30'], value: 30 },
  'startup-timeout': { args: ['5'], value: 5 },
  'connect-timeout': { args: ['4'], value: 4 },
  'log-level': { args: ['debug'], value: 'debug' },
  'log-format': { args: ['json'], value: 'json' },
  'sign-in-wait': { args: ['60'], value: 60 },
  // --no-browser is the flag that changes anything; its key says so the other way round.
  browser: { args: ['--no-browser'], value: true, negated: true },
  'sign-in-port': { args: ['8400'], value: 8400 },
  'sso-start-url': { args: ['https://d-1234567890.awsapps.com/start'], value: 'https://d-1234567890.awsapps.com/start' },
  'sso-region': { args: ['eu-west-1'], value: 'eu-west-1' },
  'db-user-from-identity': { args: [], value: true },
  listen: { args: ['127.0.0.1:6009'], value: '127.0.0.1:6009' },
  'unix-socket': { args: ['/tmp/rap-keys/.s.PGSQL.5439'], value: '/tmp/rap-keys/.s.PGSQL.5439' },
  'client-password': { args: ['s3cret'], value: 's3cret' },
  'client-password-file': { args: ['/etc/rap/password'], value: '/etc/rap/password' },
  'client-ca': { args: ['/etc/rap/clients.pem'], value: '/etc/rap/clients.pem' },
  // clientTls needs its certificate and key together in a file; the flags give them together here too.
  'client-tls-cert': { args: ['/etc/rap/cert.pem', '--client-tls-key', '/etc/rap/key.pem'], value: '/etc/rap/cert.pem', with: { key: '/etc/rap/key.pem' } },
  'client-tls-key': { args: ['/etc/rap/key.pem', '--client-tls-cert', '/etc/rap/cert.pem'], value: '/etc/rap/key.pem', with: { cert: '/etc/rap/cert.pem' } },
  'client-tls-require': { args: ['--client-tls-cert', '/etc/rap/cert.pem', '--client-tls-key', '/etc/rap/key.pem'], value: true,
    with: { cert: '/etc/rap/cert.pem', key: '/etc/rap/key.pem' } },
  upstream: { args: ['other.example.com:5440'], value: 'other.example.com:5440' },
  'cluster-id': { args: ['sales'], value: 'sales' },
  workgroup: { args: ['analytics'], value: 'analytics' },
  'custom-domain': { args: ['warehouse.example.com'], value: 'warehouse.example.com' },
  region: { args: ['eu-west-1'], value: 'eu-west-1' },
  'with-iam': { args: [], value: true },
  'db-user': { args: ['analyst'], value: 'analyst' },
  'db-name': { args: ['reports'], value: 'reports' },
  'db-groups': { args: ['a,b'], value: ['a', 'b'] },
  'auto-create': { args: [], value: true },
  duration: { args: ['1800'], value: 1800 },
  profile: { args: ['analytics'], value: 'analytics' },
  'assume-role': { args: ['arn:aws:iam::123456789012:role/r'], value: 'arn:aws:iam::123456789012:role/r' },
  'external-id': { args: ['ext'], value: 'ext' },
  'role-session-name': { args: ['rap-session'], value: 'rap-session' },
  'aws-endpoint-url': { args: ['https://vpce.example.com'], value: 'https://vpce.example.com' },
  'ca-file': { args: ['/etc/rap/ca.pem'], value: '/etc/rap/ca.pem' },
  'allowed-users': { args: ['alice,bob'], value: ['alice', 'bob'] },
  'idc-issuer-url': { args: ['https://identitycenter.amazonaws.com/ssoins-1'], value: 'https://identitycenter.amazonaws.com/ssoins-1' },
  'idc-region': { args: ['eu-west-1'], value: 'eu-west-1' },
  'idc-namespace': { args: ['AWSIDC'], value: 'AWSIDC' },
  'idc-display-name': { args: ['Reports'], value: 'Reports' },
  'idc-token-command': { args: ['print-token'], value: 'print-token' },
};

/** Every flag a command declares, by its kebab-case name (the real parser's groups). */
function parserFlags(): string[] {
  return [...new Set(COMMANDS.flatMap((c) => c.groups.flatMap((g) => Object.keys(g.options))))];
}

/** A one-listener file; `at` puts `value` under the dotted key at the top or in the listener. */
function file(key: string | undefined, value: unknown, extra: Record<string, unknown> | undefined, at: 'top' | 'listener'): string {
  const doc: Record<string, unknown> = {};
  const listener: Record<string, unknown> = { target: { upstream: 'sales.c1abcdefgh2i.eu-west-1.redshift.amazonaws.com' } };
  if (key !== undefined) {
    const parts = key.split('.');
    let node = at === 'top' ? doc : listener;
    for (const p of parts.slice(0, -1)) node = (node[p] ??= extra && p === 'clientTls' ? { ...extra } : {}) as Record<string, unknown>;
    node[parts[parts.length - 1] as string] = value;
  }
  // A top-level value counts only where the listener does not set the same key.
  if (at === 'top' && key === 'upstream') delete (listener.target as Record<string, unknown>).upstream;
  doc.listeners = [listener];
  return stringify(doc);
}

async function fromFlags(args: readonly string[]): Promise<unknown> {
  const base = parseConfigFile(file(undefined, undefined, undefined, 'top'), '/etc/rap/proxy.yaml').config;
  const flags = (await buildParser([...args]).parseAsync()) as Flags;
  return configFromFlags(flags, base);
}

const fromFile = (text: string): unknown => configFromFlags({}, parseConfigFile(text, '/etc/rap/proxy.yaml').config);

describe('every flag has a config-file key', () => {
  it('each flag a command declares is in the file-key table or is a command\'s own', () => {
    const missing = parserFlags().filter((f) => !(f in FLAG_FILE_KEYS) && !COMMAND_ONLY_FLAGS.includes(f));
    expect(missing, 'add these to src/config/file-keys.ts (and the file schema)').toEqual([]);
    expect(Object.keys(FLAG_FILE_KEYS).filter((f) => !parserFlags().includes(f)), 'keys of flags that no longer exist').toEqual([]);
  });

  for (const [flag, key] of Object.entries(FLAG_FILE_KEYS)) {
    it(`--${flag}: ${[key.top && `top-level ${key.top}`, key.listener && `listener ${key.listener}`].filter(Boolean).join(', ')}`, async () => {
      const sample = SAMPLES[flag];
      expect(sample, `give --${flag} a sample in this test`).toBeDefined();
      if (!sample) return;
      const args = sample.negated ? [...sample.args] : sample.value === true && sample.args.every((a) => a.startsWith('--')) ? [`--${flag}`, ...sample.args]
        : sample.value === false ? [`--no-${flag}`] : [`--${flag}`, ...sample.args];
      const expected = await fromFlags(args);
      expect(expected, 'the flag changes the Config').not.toEqual(await fromFlags([]));
      if (key.top) expect(fromFile(file(key.top, sample.value, sample.with, 'top'))).toEqual(expected);
      if (key.listener) expect(fromFile(file(key.listener, sample.value, sample.with, 'listener'))).toEqual(expected);
    });
  }

  it('precedence: flag > environment > listener > top level', async () => {
    const text = `dbUser: top_user
awsEndpointUrl: https://top.example.com
listeners:
  - target: { upstream: sales.c1abcdefgh2i.eu-west-1.redshift.amazonaws.com, dbUser: listener_user }
  - listen: 127.0.0.1:5440
    target: { upstream: sales.c1abcdefgh2i.eu-west-1.redshift.amazonaws.com }
`;
    const base = parseConfigFile(text, '/etc/rap/proxy.yaml').config;
    expect(base.listeners.map((l) => [l.target.dbUser, l.target.awsEndpointUrl])).toEqual([
      ['listener_user', 'https://top.example.com'], ['top_user', 'https://top.example.com']]);
    const saved = process.env.REDSHIFT_AUTH_PROXY_DB_USER;
    process.env.REDSHIFT_AUTH_PROXY_DB_USER = 'env_user';
    try {
      const env = configFromFlags((await buildParser([]).parseAsync()) as Flags, base);
      expect(env.listeners.map((l) => l.target.dbUser)).toEqual(['env_user', 'env_user']);
      const flag = configFromFlags((await buildParser(['--db-user', 'flag_user']).parseAsync()) as Flags, base);
      expect(flag.listeners.map((l) => l.target.dbUser)).toEqual(['flag_user', 'flag_user']);
    } finally {
      if (saved === undefined) delete process.env.REDSHIFT_AUTH_PROXY_DB_USER;
      else process.env.REDSHIFT_AUTH_PROXY_DB_USER = saved;
    }
  });
});
