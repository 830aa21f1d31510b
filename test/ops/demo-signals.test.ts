/**
 * `npm run demo` stops with its npm process: IDE stop buttons and `docker stop` signal only npm's PID, so SIGINT
 * and SIGTERM sent to npm must end the demo's node too (npm's script runner forwards them to its child; the
 * script `exec`s node so that child is node itself, not a shell that would swallow them). Runs npm for real, with
 * package.json's own `demo` script line, in a copy whose `build` is a no-op so the suite's dist/ is not rebuilt
 * under other test files' feet.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const scripts = (JSON.parse(readFileSync('package.json', 'utf8')) as { scripts: Record<string, string> }).scripts;

function project(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'rap-demo-npm-'));
  writeFileSync(path.join(dir, 'package.json'), JSON.stringify({
    name: 'demo-signals', private: true, scripts: { build: 'true', demo: scripts.demo },
  }));
  symlinkSync(path.resolve('dist'), path.join(dir, 'dist'));
  symlinkSync(path.resolve('node_modules'), path.join(dir, 'node_modules'));
  return dir;
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** The PIDs of `pid`'s children, from /proc (Linux). */
function children(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

const refused = (port: number): Promise<boolean> => new Promise((resolve) => {
  const s = net.connect(port, '127.0.0.1');
  s.once('connect', () => {
    s.destroy();
    resolve(false);
  });
  s.once('error', () => resolve(true));
});

describe('npm run demo', () => {
  it('runs node itself as npm\'s child (exec), not under a shell', () => {
    expect(scripts.demo).toMatch(/(^|&& )exec node dist\/src\/demo\/main\.js/);
  });

  for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
    it(`ends node, frees the port and exits ${code} when npm's PID gets ${signal}`, async () => {
      const npm = spawn('npm', ['run', 'demo', '--', '--port', '0'], { cwd: project(), stdio: ['ignore', 'pipe', 'pipe'] });
      const npmPid = npm.pid as number;
      let out = '';
      const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
        npm.once('exit', (c, s) => resolve({ code: c, signal: s }));
      });
      let nodes: number[] = [];
      try {
        const port = await new Promise<number>((resolve, reject) => {
          const onData = (d: Buffer): void => {
            out += d.toString();
            const m = /listening on 127\.0\.0\.1:(\d+)/.exec(out);
            if (m) resolve(Number(m[1]));
          };
          npm.stdout.on('data', onData);
          npm.stderr.on('data', onData);
          void exit.then((e) => reject(new Error(`npm exited (${JSON.stringify(e)}) before the demo listened:\n${out}`)));
        });
        nodes = children(npmPid);
        expect(nodes.length, 'npm has a child').toBeGreaterThan(0);
        expect(nodes.every(alive)).toBe(true);
        process.kill(npmPid, signal);
        const e = await exit;
        expect(e.code ?? 128 + (e.signal === 'SIGINT' ? 2 : 15)).toBe(code);
        // npm waits for its child before it exits: by now node must be gone and its port closed.
        for (const pid of nodes) expect(alive(pid), `node ${pid} outlived npm`).toBe(false);
        expect(await refused(port)).toBe(true);
      } finally {
        for (const pid of [...nodes, npmPid]) if (alive(pid)) process.kill(pid, 'SIGKILL');
      }
    }, 60_000);
  }
});
