/**
 * The Dockerfile checked without a Docker engine: its stages run scripts package.json has, copy paths that exist
 * (after `npm run build`), start an entrypoint that exists in dist, run as a non-root user on loopback, and its
 * HEALTHCHECK script really tells a healthy endpoint from a dead one.
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildParser } from '../../src/cli.js';
import type { Flags } from '../../src/config/from-flags.js';
import { configFromFlags } from '../../src/config/from-flags.js';
import { isLoopback } from '../../src/config/validate-config.js';
import { execForm, readDockerfile, steps } from './dockerfile.js';
import type { Stage } from './dockerfile.js';

const dockerfile = readDockerfile();
const scripts = (JSON.parse(readFileSync('package.json', 'utf8')) as { scripts: Record<string, string> }).scripts;

describe('Dockerfile', () => {
  const build = dockerfile[0];
  const runtime = dockerfile[dockerfile.length - 1];

  it('builds in one stage and runs from another on a Node 24 image', () => {
    expect(dockerfile.length).toBeGreaterThanOrEqual(2);
    for (const s of dockerfile) expect(s.from).toMatch(/^node:24-(bookworm-slim|alpine)$/);
    expect(steps(build, 'RUN').join(' && ')).toMatch(/npm ci(?! --omit)/);
    expect(steps(runtime, 'RUN').join(' && ')).toMatch(/npm ci --omit=dev/);
    expect(steps(runtime, 'RUN').join(' ')).not.toMatch(/npm run/);
  });

  it('runs only npm scripts that package.json has', () => {
    const used = dockerfile.flatMap((s) => steps(s, 'RUN')).flatMap((r) => [...r.matchAll(/npm run (\S+)/g)].map((m) => m[1]));
    expect(used).toContain('build');
    for (const name of used) expect(scripts, `npm run ${String(name)}`).toHaveProperty(name as string);
  });

  it('copies paths that exist, and only dist/src from the build stage into the runtime stage', () => {
    const workdir = (s: Stage | undefined): string => steps(s, 'WORKDIR').at(-1) ?? '/';
    for (const stage of dockerfile) {
      for (const copy of steps(stage, 'COPY')) {
        const from = /--from=(\S+)/.exec(copy)?.[1];
        const parts = copy.replace(/--\S+/g, '').trim().split(/\s+/);
        for (const src of parts.slice(0, -1)) {
          const local = from === undefined ? src : path.relative(workdir(dockerfile.find((s) => s.name === from)), src);
          expect(existsSync(local), `COPY ${copy}: ${local}`).toBe(true);
        }
      }
    }
    expect(steps(runtime, 'COPY').filter((c) => c.includes('--from'))).toEqual([expect.stringMatching(/dist\/src/)]);
    const ignored = readFileSync('.dockerignore', 'utf8').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
    for (const needed of ['src', 'package.json', 'package-lock.json', 'tsconfig.json']) expect(ignored).not.toContain(needed);
  });

  it('starts an entrypoint that the build produced, as a non-root user, on loopback', async () => {
    const entry = execForm(steps(runtime, 'ENTRYPOINT').at(-1) ?? '[]');
    expect(entry[0]).toBe('node');
    expect(existsSync(entry[1] as string), `${String(entry[1])} after npm run build`).toBe(true);
    const user = steps(runtime, 'USER').at(-1);
    expect(user).toBeDefined();
    expect(['root', '0']).not.toContain(user?.split(':')[0]);
    const cmd = execForm(steps(runtime, 'CMD').at(-1) ?? '[]');
    const config = configFromFlags((await buildParser(cmd).parseAsync()) as Flags);
    for (const l of config.listeners) expect(isLoopback(l.host)).toBe(true);
  });

  it('has a HEALTHCHECK whose script exists and tells healthy from dead', async () => {
    const check = execForm(steps(runtime, 'HEALTHCHECK').at(-1) ?? '[]');
    expect(check[0]).toBe('node');
    const script = check[1] as string;
    expect(existsSync(script)).toBe(true);
    const server = http.createServer((req, res) => {
      res.writeHead(req.url === '/healthz' ? 200 : 404).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    const run = (listen: string): Promise<number> => new Promise((resolve) => {
      execFile(process.execPath, [script], { env: { ...process.env, REDSHIFT_AUTH_PROXY_HTTP_LISTEN: listen } },
        (err) => resolve(err ? Number((err as { code?: unknown }).code ?? 1) : 0));
    });
    try {
      expect(await run(`0.0.0.0:${port}`)).toBe(0);
      await new Promise<void>((resolve) => server.close(() => resolve()));
      expect(await run(`127.0.0.1:${port}`)).toBe(1);
    } finally {
      server.close();
    }
  });
});
