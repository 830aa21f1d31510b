/**
 * `service print`: the systemd user unit passes `systemd-analyze verify --user` with no warning (the systemd
 * package is in .ci/packages; a machine without the tool fails this test), the launchd agent is a property list
 * that python3's plistlib reads, both run this node and this executable with the config file's absolute path, and
 * the examples in config/ are the same text rendered for example paths.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { launchdAgent, systemdUnit } from '../../src/service/unit-files.js';
import { BIN, runCli } from '../ops/cli-process.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'rap-service-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const EXAMPLE_PATHS = {
  node: '/usr/bin/node',
  bin: '/usr/lib/node_modules/redshift-auth-proxy/dist/src/bin.js',
  config: '/home/analyst/.config/redshift-auth-proxy/proxy.yaml',
  logFile: '/Users/analyst/Library/Logs/redshift-auth-proxy.log',
  path: '/usr/local/bin:/usr/bin:/bin',
};

async function printed(args: string[]): Promise<string> {
  const p = runCli(['service', 'print', ...args]);
  expect(await p.exit, p.stderr()).toBe(0);
  return p.stdout();
}

describe('service print', () => {
  it('--systemd: a Type=notify user unit that systemd-analyze verify accepts without a warning', async () => {
    const config = path.join(dir, 'my proxy.yaml');
    const unit = await printed(['--systemd', '--config', config]);
    expect(unit).toMatch(/^Type=notify$/m);
    expect(unit).toMatch(/^NotifyAccess=all$/m);
    expect(unit).toMatch(/^ExecReload=\/bin\/kill -HUP \$MAINPID$/m);
    expect(unit).toContain(`ExecStart=${process.execPath} ${BIN} start --config "${config}"`);
    const file = path.join(dir, 'redshift-auth-proxy.service');
    writeFileSync(file, unit);
    const runtime = path.join(dir, 'runtime');
    mkdirSync(runtime, { mode: 0o700, recursive: true });
    const verify = spawnSync('systemd-analyze', ['verify', '--user', file], { encoding: 'utf8', env: { ...process.env, XDG_RUNTIME_DIR: runtime } });
    expect(verify.error, 'systemd-analyze must be installed (Debian package systemd, in .ci/packages)').toBeUndefined();
    expect(verify.status, verify.stderr).toBe(0);
    expect(verify.stderr).toBe('');
    // The check can fail: a unit systemd cannot run is refused.
    writeFileSync(file, unit.replace(process.execPath, '/nonexistent/node'));
    expect(spawnSync('systemd-analyze', ['verify', '--user', file], { encoding: 'utf8', env: { ...process.env, XDG_RUNTIME_DIR: runtime } }).status).not.toBe(0);
  });

  it('--launchd: a property list running this executable at login, restarted after a failure', async () => {
    const text = await printed(['--launchd', '--config', 'relative.yaml']);
    const parsed = spawnSync('/usr/bin/python3', ['-c', 'import json, plistlib, sys; print(json.dumps(plistlib.loads(sys.stdin.buffer.read())))'],
      { input: text, encoding: 'utf8' });
    expect(parsed.status, parsed.stderr).toBe(0);
    const plist = JSON.parse(parsed.stdout) as Record<string, unknown>;
    expect(plist).toMatchObject({
      Label: 'io.github.redshift-auth-proxy',
      ProgramArguments: [process.execPath, BIN, 'start', '--config', path.resolve('relative.yaml')],
      RunAtLoad: true,
      KeepAlive: { SuccessfulExit: false },
    });
    expect(((plist.EnvironmentVariables as Record<string, string>).PATH ?? '').split(':')).toContain(path.dirname(process.execPath));
  });

  it('needs exactly one of --systemd and --launchd', async () => {
    const p = runCli(['service', 'print']);
    expect(await p.exit).toBe(2);
    expect(p.stderr()).toMatch(/exactly one of --systemd, --launchd/);
  });

  it('config/ holds the same unit and agent, rendered for example paths', () => {
    expect(readFileSync('config/redshift-auth-proxy.service', 'utf8')).toBe(systemdUnit(EXAMPLE_PATHS));
    expect(readFileSync('config/io.github.redshift-auth-proxy.plist', 'utf8')).toBe(launchdAgent(EXAMPLE_PATHS));
  });
});
