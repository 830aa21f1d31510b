/**
 * The config file: its problems named by file, line and key; precedence flags > env > file; the shared rules
 * applied with the file's key names.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { buildParser } from '../../src/cli.js';
import type { Flags } from '../../src/config/from-flags.js';
import { ConfigFileError, parseConfigFile } from '../../src/config/load-file.js';
import { resolveConfig } from '../../src/config/resolve-config.js';
import { findProblems } from '../../src/config/validate-config.js';

const dir = mkdtempSync(path.join(tmpdir(), 'rap-config-'));

function problemsOf(text: string): string[] {
  try {
    const loaded = parseConfigFile(text, path.join(dir, 'proxy.yaml'));
    return findProblems(loaded.config, loaded.namer).map((p) => loaded.describe(p));
  } catch (err) {
    if (err instanceof ConfigFileError) return [...err.problems];
    throw err;
  }
}

function writeConfig(text: string): string {
  const file = path.join(dir, `c${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(file, text);
  return file;
}

async function resolve(argv: string[], file?: string) {
  const flags = (await buildParser(argv).parseAsync()) as Flags;
  return resolveConfig(flags, file);
}

const TWO_LISTENERS = `
logLevel: warn
shutdownGrace: 5
listeners:
  - name: prod
    listen: 127.0.0.1:6001
    target:
      upstream: prod.abc123.us-east-1.redshift.amazonaws.com
      dbUser: analyst
      caFile: certs/ca.pem
  - name: lake
    listen: 6002
    maxConnections: 3
    target:
      workgroup: lake
      region: eu-west-1
`;

describe('config file problems', () => {
  it('names the file, the line and the key of a value out of range', () => {
    expect(problemsOf(`listeners:
  - listen: 127.0.0.1:6001
    target:
      clusterId: a
  - listen: 127.0.0.1:6002
    target:
      clusterId: b
      duration: 60
`)).toEqual(['proxy.yaml:8: listeners[1].target.duration must be 900–3600']);
  });

  it('reports unknown keys (typos) at their own line, and wrong types', () => {
    expect(problemsOf(`listeners:
  - target:
      clusterId: a
      dbUzer: x
      autoCreate: "yes"
logLevel: loud
`)).toEqual([
      'proxy.yaml:5: listeners[0].target.autoCreate must be a boolean',
      'proxy.yaml:4: listeners[0].target.dbUzer is not a setting here',
      'proxy.yaml:6: logLevel must be one of: trace, debug, info, warn, error, fatal, silent',
    ]);
  });

  it('reports a missing key at the mapping that lacks it, and a missing top-level key without a line', () => {
    // Line 1 holds logLevel: the file has no line for listeners, so no line is named (it once said proxy.yaml:1).
    expect(problemsOf('logLevel: info\nhttpListen: 9090\n')).toEqual(['proxy.yaml: listeners is required']);
    expect(problemsOf('logLevel: info\nlisteners:\n  - listen: 127.0.0.1:6000\n    name: a\n'))
      .toEqual(['proxy.yaml:3: listeners[0].target is required']);
    expect(problemsOf('logLevel: info\nlisteners:\n  - target:\n      upstream: h\n      clientTls: 1\n  - name: b\n'))
      .toEqual(['proxy.yaml:5: listeners[0].target.clientTls is not a setting here', 'proxy.yaml:6: listeners[1].target is required']);
  });

  it('reports YAML syntax errors with their line', () => {
    const [problem] = problemsOf('listeners:\n  - target: {clusterId: a\n');
    expect(problem).toMatch(/^proxy\.yaml:\d+: /);
  });

  it('applies the shared rules with the file\'s key names', () => {
    expect(problemsOf(`listeners:
  - listen: 127.0.0.1:6001
    target:
      clusterId: a
      withIam: true
      dbUser: x
  - listen: 127.0.0.1:6001
    target:
      upstream: 10.1.2.3
`)).toEqual([
      'proxy.yaml:6: listeners[0].target.dbUser cannot be used with withIam (the IAM identity is the database user)',
      'proxy.yaml:7: listeners[1].listen 127.0.0.1:6001 is used by two listeners',
      'proxy.yaml:9: listeners[1].target.upstream 10.1.2.3 is not a Redshift endpoint name, so give clusterId (or workgroup)',
    ]);
  });

  it('refuses a listener beyond loopback and both listen and unixSocket', () => {
    const problems = problemsOf(`listeners:
  - listen: 0.0.0.0:5439
    target: { clusterId: a }
  - listen: 127.0.0.1:5440
    unixSocket: /tmp/x/.s.PGSQL.5439
    target: { clusterId: a }
`);
    expect(problems).toEqual([expect.stringMatching(/^proxy\.yaml:5: listeners\[1\]\.unixSocket give listen or unixSocket, not both$/)]);
    expect(problemsOf('listeners:\n  - listen: 0.0.0.0:5439\n    target: { clusterId: a }\n'))
      .toEqual([expect.stringMatching(/^proxy\.yaml:2: listeners\[0\]\.listen 0\.0\.0\.0 is not a loopback address/)]);
  });

  it('checks users: maps only where a database user can be chosen', () => {
    expect(problemsOf(`listeners:
  - target:
      workgroup: lake
      users:
        alice: { dbUser: alice_ro }
`)).toEqual([expect.stringMatching(/^proxy\.yaml:4: listeners\[0\]\.target\.users maps local users/)]);
    expect(problemsOf(`listeners:
  - target:
      clusterId: a
      users:
        alice: { dbUser: alice_ro, dbGroups: [readers] }
`)).toEqual([]);
  });
});

describe('config file loading and precedence', () => {
  afterEach(() => {
    delete process.env.REDSHIFT_AUTH_PROXY_LOG_LEVEL;
    delete process.env.REDSHIFT_AUTH_PROXY_PROFILE;
  });

  it('fills every listener, with relative paths read from the file\'s directory', async () => {
    const file = writeConfig(TWO_LISTENERS);
    const r = await resolve([], file);
    if (!r.ok) throw new Error(r.problems.join('\n'));
    expect(r.config.logLevel).toBe('warn');
    expect(r.config.shutdownGraceMs).toBe(5_000);
    expect(r.config.listeners).toMatchObject([
      { name: 'prod', host: '127.0.0.1', port: 6001, target: { upstreamHost: 'prod.abc123.us-east-1.redshift.amazonaws.com',
        upstreamPort: 5439, dbUser: 'analyst', caFile: path.join(dir, 'certs/ca.pem') } },
      { name: 'lake', host: '127.0.0.1', port: 6002, maxConnections: 3, target: { workgroup: 'lake', region: 'eu-west-1' } },
    ]);
  });

  it('lets flags beat the environment, and the environment beat the file', async () => {
    const file = writeConfig(TWO_LISTENERS);
    process.env.REDSHIFT_AUTH_PROXY_LOG_LEVEL = 'debug';
    process.env.REDSHIFT_AUTH_PROXY_PROFILE = 'from-env';
    const envOnly = await resolve([], file);
    if (!envOnly.ok) throw new Error(envOnly.problems.join('\n'));
    expect(envOnly.config.logLevel).toBe('debug');
    expect(envOnly.config.listeners.map((l) => l.target.profile)).toEqual(['from-env', 'from-env']);
    const flagged = await resolve(['--log-level', 'error', '--profile', 'from-flag', '--shutdown-grace', '1'], file);
    if (!flagged.ok) throw new Error(flagged.problems.join('\n'));
    expect(flagged.config.logLevel).toBe('error');
    expect(flagged.config.shutdownGraceMs).toBe(1_000);
    expect(flagged.config.listeners.map((l) => l.target.profile)).toEqual(['from-flag', 'from-flag']);
    expect(flagged.config.listeners[1]?.target.workgroup).toBe('lake');
  });

  it('refuses per-listener flags with a file of several listeners, and takes them with one', async () => {
    const r = await resolve(['--listen', '127.0.0.1:7000'], writeConfig(TWO_LISTENERS));
    expect(r.ok ? [] : r.problems).toEqual([expect.stringMatching(/--listen cannot be combined with .* 2 listeners/)]);
    const one = await resolve(['--listen', '127.0.0.1:7000', '--db-user', 'x'],
      writeConfig('listeners:\n  - listen: 6000\n    target: { clusterId: a }\n'));
    if (!one.ok) throw new Error(one.problems.join('\n'));
    expect(one.config.listeners).toMatchObject([{ host: '127.0.0.1', port: 7000, target: { clusterId: 'a', dbUser: 'x' } }]);
  });

  it('says so when the file cannot be read', async () => {
    const r = await resolve([], path.join(dir, 'missing.yaml'));
    expect(r.ok ? [] : r.problems).toEqual([expect.stringMatching(/cannot read config file .*missing\.yaml: ENOENT/)]);
  });
});
