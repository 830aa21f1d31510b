/**
 * `npm run package`'s single-file executable (Node SEA, Linux x64): built here from the compiled CLI with the Node
 * running the suite, then run with nothing else — no node_modules, no Node on PATH: --version, `check --help`,
 * and a real login through the test bed and the emulator. The build copies a ~100 MB Node binary and takes
 * 10-30 s, so this file has its own bounded timeout.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withClient } from '../support/clients.js';
import { startStack } from '../support/stack.js';
import type { Stack } from '../support/stack.js';
import { listeningPorts, runExecutable, stackArgs } from './cli-process.js';

const EXE = path.resolve('dist/sea/redshift-auth-proxy-linux-x64');
const VERSION = (JSON.parse(readFileSync('package.json', 'utf8')) as { version: string }).version;
const onLinuxX64 = process.platform === 'linux' && process.arch === 'x64';
let stack: Stack;

/** The environment of a machine with no Node: an empty PATH, and nothing pointing at our tree. */
function bareEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, PATH: mkdtempSync(path.join(tmpdir(), 'rap-empty-path-')) };
  delete env.NODE_OPTIONS;
  delete env.NODE_PATH;
  return env;
}

beforeAll(async () => {
  if (!onLinuxX64) throw new Error(`npm run package builds for Linux x64; this is ${process.platform}-${process.arch}`);
  await new Promise<void>((resolve, reject) => {
    execFile(process.execPath, ['dist/scripts/package/build-sea.js'], { timeout: 150_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`npm run package failed: ${err.message}\n${stdout}\n${stderr}`));
      else resolve();
    });
  });
  stack = await startStack();
}, 180_000);

afterAll(async () => {
  await stack?.stop();
});

describe('single-file executable', () => {
  it('is one file, runs without Node or node_modules, and prints its version', async () => {
    expect(existsSync(EXE)).toBe(true);
    expect(statSync(EXE).mode & 0o111).not.toBe(0);
    const p = runExecutable(EXE, ['--version'], bareEnv());
    expect(await p.exit, p.stderr()).toBe(0);
    expect(p.stdout()).toBe(`${VERSION}\n`);
    expect(p.stderr()).toBe('');
  });

  it('shows check --help with check\'s flags only', async () => {
    const p = runExecutable(EXE, ['check', '--help'], bareEnv());
    expect(await p.exit, p.stderr()).toBe(0);
    expect(p.stdout()).toMatch(/redshift-auth-proxy check/);
    expect(p.stdout()).toMatch(/--upstream/);
    expect(p.stdout()).not.toMatch(/--listen /);
  });

  it('logs a client in to the test bed as a proxy, and stops on SIGTERM with 143', async () => {
    const p = runExecutable(EXE, ['--listen', '127.0.0.1:0', ...stackArgs(stack)], { ...bareEnv(), ...awsEnv() });
    try {
      const port = [...(await listeningPorts(p)).values()][0] as number;
      const user = await withClient(port, 'sea-user', async (c) => (await c.query('select current_user as u')).rows[0].u as string);
      expect(user).toBe('IAMA:sea-user');
    } finally {
      p.child.kill('SIGTERM');
    }
    expect(await p.exit).toBe(143);
    for (const pw of stack.issuedPasswords) expect(p.stderr()).not.toContain(pw);
  });
});

/** The test principal's AWS environment that startStack put into this process. */
function awsEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => k.startsWith('AWS_')));
}
