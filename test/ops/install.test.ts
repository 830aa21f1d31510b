/**
 * What `npm pack` makes and what `npm install -g` of it gives, from a copy of the source tree that was never
 * built (no dist/, as a fresh clone): `npm ci` runs `prepare`, which builds, the tarball carries the CLI (dist/src/bin.js) and not the demo, the
 * emulator, the tests or the scripts, every README link points at a file the tarball has, and the installed
 * command runs with only production dependencies installed (npm does not install a package's devDependencies).
 * Uses the npm registry through the local npm cache (--prefer-offline) for the dependencies that are not bundled.
 */
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';

const ROOT = path.resolve('.');
const VERSION = (JSON.parse(readFileSync('package.json', 'utf8')) as { version: string }).version;
const work = mkdtempSync(path.join(tmpdir(), 'rap-install-'));
let packed: string[] = [];
let tarball = '';
let prefix = '';

function run(cmd: string, args: string[], cwd: string, timeout = 240_000): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { cwd, timeout, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${cmd} ${args.join(' ')}: ${err.message}\n${stdout}\n${stderr}`));
      else resolve({ stdout, stderr });
    });
  });
}

/** The source tree as a fresh clone has it: tracked and new (not ignored) files, no dist/. */
async function sourceCopy(): Promise<string> {
  const dir = path.join(work, 'clone');
  const { stdout } = await run('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], ROOT);
  for (const f of stdout.split('\0').filter(Boolean)) {
    if (!existsSync(path.join(ROOT, f))) continue; // deleted in the working tree
    mkdirSync(path.dirname(path.join(dir, f)), { recursive: true });
    cpSync(path.join(ROOT, f), path.join(dir, f));
  }
  return dir;
}

beforeAll(async () => {
  const clone = await sourceCopy();
  // As a user would after cloning: npm ci (prepare builds dist/), then npm pack. A real node_modules, not a link
  // to ours: npm pack copies the bundled dependencies' whole tree from it.
  await run('npm', ['ci', '--prefer-offline', '--no-audit', '--no-fund'], clone);
  expect(existsSync(path.join(clone, 'dist', 'src', 'bin.js'))).toBe(true);
  const out = path.join(work, 'out');
  mkdirSync(out);
  const { stdout } = await run('npm', ['pack', '--json', '--pack-destination', out], clone);
  const info = JSON.parse(stdout.slice(stdout.indexOf('['))) as Array<{ filename: string; files: Array<{ path: string }> }>;
  packed = info[0]?.files.map((f) => f.path) ?? [];
  tarball = path.join(out, info[0]?.filename ?? '');
  prefix = path.join(work, 'prefix');
  await run('npm', ['install', '--global', '--prefix', prefix, '--prefer-offline', '--no-audit', '--no-fund', tarball], work);
}, 300_000);

describe('npm pack and npm install -g', () => {
  it('packs the built CLI from an unbuilt tree, and no demo, emulator, tests or scripts', () => {
    expect(packed).toContain('dist/src/bin.js');
    expect(packed).toContain('dist/src/cli.js');
    expect(packed).toContain('LICENSE');
    for (const f of packed) {
      expect(f, f).not.toMatch(/^(dist\/src\/(demo|emulator)\/|dist\/(test|scripts)\/|test\/|scripts\/|src\/)/);
    }
    // The AWS SDK travels inside the tarball with its whole dependency tree (bundleDependencies): a global install
    // does not read our lockfile.
    const bundled = new Set(packed.filter((f) => /^node_modules\/(@[^/]+\/)?[^/]+\/package\.json$/.test(f)));
    for (const p of ['@aws-sdk/client-redshift', '@aws-sdk/core', '@smithy/core', '@smithy/types']) {
      expect(bundled, p).toContain(`node_modules/${p}/package.json`);
    }
  });

  it('ships every file the packed README links to', () => {
    const readme = readFileSync('README.md', 'utf8');
    const links = [...readme.matchAll(/\]\(([^)#\s]+)(?:#[^)]*)?\)/g)].map((m) => m[1] as string)
      .filter((l) => !/^[a-z]+:/.test(l));
    expect(links.length).toBeGreaterThan(3);
    for (const l of links) {
      expect(l, `${l} stays inside the repository`).not.toMatch(/^\.\.\//);
      expect(packed, `README links ${l}`).toContain(path.posix.normalize(l));
    }
  });

  it('installs a command that runs with production dependencies only', async () => {
    const bin = path.join(prefix, 'bin', 'redshift-auth-proxy');
    expect((await run(bin, ['--version'], work)).stdout).toBe(`${VERSION}\n`);
    expect((await run(bin, ['check', '--help'], work)).stdout).toMatch(/redshift-auth-proxy check/);
    const installed = readdirSync(path.join(prefix, 'lib', 'node_modules', 'redshift-auth-proxy', 'node_modules'));
    expect(installed).toContain('yargs');
    for (const dev of ['typescript', 'vitest', 'esbuild', 'postject', 'pg', '@electric-sql']) expect(installed).not.toContain(dev);
    // The SDK as the lockfile has it, not whatever the registry would resolve today.
    const lock = JSON.parse(readFileSync('package-lock.json', 'utf8')) as { packages: Record<string, { version?: string }> };
    for (const p of ['@aws-sdk/core', '@smithy/core']) {
      const manifest = path.join(prefix, 'lib', 'node_modules', 'redshift-auth-proxy', 'node_modules', p, 'package.json');
      expect((JSON.parse(readFileSync(manifest, 'utf8')) as { version: string }).version, p).toBe(lock.packages[`node_modules/${p}`]?.version);
    }
  });
});
