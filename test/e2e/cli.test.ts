/**
 * The built executable, as users run it: usage errors exit 2 with the flag named; SIGTERM exits 143 after a
 * graceful stop; a client logs in through the process.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { withClient } from '../support/clients.js';
import { startStack, TEST_CLUSTER } from '../support/stack.js';
import type { Stack } from '../support/stack.js';

const BIN = path.resolve('dist/src/bin.js');
let stack: Stack;

beforeAll(async () => {
  if (!existsSync(BIN)) throw new Error('dist/src/bin.js is missing: npm test runs npm run build first');
  stack = await startStack();
});

afterAll(async () => {
  await stack?.stop();
});

function run(args: string[]): { child: ChildProcess; stderr: () => string; exit: Promise<number | null> } {
  const child = spawn(process.execPath, [BIN, ...args], { env: process.env, stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr?.on('data', (d: Buffer) => {
    err += d.toString();
  });
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, stderr: () => err, exit };
}

describe('redshift-auth-proxy executable', () => {
  it('exits 2 and names the flag on bad usage', async () => {
    const r = run(['--upstream', 'h', '--duration', '60']);
    expect(await r.exit).toBe(2);
    expect(r.stderr()).toMatch(/--duration expects a whole number of seconds from 900 to 3600/);
    const unknown = run(['--no-such-flag']);
    expect(await unknown.exit).toBe(2);
  });

  it('serves a client, then exits 143 on SIGTERM', async () => {
    const r = run(['--listen', '127.0.0.1:0', '--upstream', `localhost:${stack.bed.port}`, '--cluster-id', TEST_CLUSTER,
      '--region', 'us-east-1', '--aws-endpoint-url', stack.emulator.url, '--ca-file', stack.bed.caCertPath,
      '--auto-create', '--shutdown-grace', '2']);
    const port = await new Promise<number>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`no listening line: ${r.stderr()}`)), 15_000);
      r.child.stderr?.on('data', () => {
        const m = /"msg":"listening"/.test(r.stderr()) ? /"port":(\d+)[^\n]*"msg":"listening"/.exec(r.stderr()) : null;
        if (m) {
          clearTimeout(t);
          resolve(Number(m[1]));
        }
      });
    });
    const u = await withClient(port, 'cli-user', async (c) => (await c.query('select current_user as u')).rows[0].u as string);
    expect(u).toBe('IAMA:cli-user');
    r.child.kill('SIGTERM');
    expect(await r.exit).toBe(143);
    for (const pw of stack.issuedPasswords) expect(r.stderr()).not.toContain(pw);
  });
});
