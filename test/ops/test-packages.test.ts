/**
 * scripts/test-packages.sh, which `npm test` runs first: every Debian package a client test asks for is listed in
 * .ci/packages (so a fresh machine gets it), nothing is missing on this machine after it ran, and on a machine
 * without apt it names each missing package with why and fails instead of starting a half-equipped suite.
 * (Its apt-get path installs for real; `npm test` exercises it on any machine that lacks a package.)
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const SCRIPT = path.resolve('scripts/test-packages.sh');

function listed(): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of readFileSync('.ci/packages', 'utf8').split('\n')) {
    const [check, pkg] = line.trim().split(/\s+/);
    if (check && pkg && !check.startsWith('#')) out.set(check, pkg);
  }
  return out;
}

function run(env: NodeJS.ProcessEnv): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve) => {
    execFile('/bin/bash', [SCRIPT], { env }, (err, _stdout, stderr) => {
      resolve({ code: err ? Number((err as { code?: unknown }).code ?? 1) : 0, stderr });
    });
  });
}

describe('test-packages.sh', () => {
  it('lists every Debian package the client tests name', () => {
    const packages = new Set(listed().values());
    const named = new Set<string>();
    for (const f of readdirSync('test/clients').filter((n) => n.endsWith('.ts'))) {
      const text = readFileSync(path.join('test/clients', f), 'utf8');
      for (const m of text.matchAll(/requireInstalled\([^,]+,\s*'([\w.+-]+)'\)|install the Debian package ([a-z][\w.+-]+)|'(python3-[\w.+-]+)'/g)) {
        named.add((m[1] ?? m[2] ?? m[3]) as string);
      }
    }
    for (const p of ['odbc-postgresql', 'python3-pyodbc', 'python3-psycopg2', 'python3-sqlalchemy', 'libpostgresql-jdbc-java']) {
      expect(named, 'the client tests name it').toContain(p);
    }
    for (const p of named) expect(packages, `${p} in .ci/packages`).toContain(p);
  });

  it('finds nothing missing once it has run (npm test runs it first)', async () => {
    const r = await run(process.env);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
  });

  it('without apt, names each missing package with why and exits 1', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'rap-packages-'));
    const bin = path.join(dir, 'bin');
    // A PATH with the shell's basic tools but no apt-get (a macOS or non-Debian machine).
    mkdirSync(bin);
    for (const tool of ['id', 'bash']) symlinkSync(`/usr/bin/${tool}`, path.join(bin, tool));
    const file = path.join(dir, 'packages');
    writeFileSync(file, [
      '# a comment',
      `${dir}/absent/*.so rap-test-driver the driver a test needs`,
      'rap-no-such-command rap-test-tool a tool a test runs',
      'rap-no-such-command-2 rap-test-tool the same package again',
      `${file} rap-present-package present, so not listed`,
    ].join('\n'));
    const r = await run({ PATH: bin, RAP_PACKAGES_FILE: file });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/installing 2 Debian package\(s\)/);
    expect(r.stderr).toMatch(/rap-test-driver: the driver a test needs \(missing: .*absent\/\*\.so\)/);
    expect(r.stderr).toMatch(/rap-test-tool: a tool a test runs \(missing: rap-no-such-command\)/);
    expect(r.stderr).not.toMatch(/rap-present-package/);
    expect(r.stderr).toMatch(/no apt-get on this machine/);
  });
});
