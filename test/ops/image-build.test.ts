/**
 * The container image built the way Docker would build it, without Docker: no Docker daemon exists on our
 * machines (or in CI), so this test runs the Dockerfile's own instructions, read from the file, on this machine.
 * Each stage gets a directory standing for its WORKDIR; COPY copies exactly the build-context files .dockerignore
 * lets through (or, with --from, files of an earlier stage); RUN runs its shell command there with the stage's ENV
 * and a private npm cache (the image's `npm cache clean` must not touch this machine's). Then the runtime stage's
 * ENTRYPOINT is started as `docker run IMAGE …` would: --version, a proxy listening with a client logged in
 * through it, and the HEALTHCHECK command against it (0 while it runs, 1 after it stopped).
 * What this cannot show: the base image itself (node:24-bookworm-slim; the suite runs on the Node at hand, and
 * `npm run test:all` repeats it on Node 24), and USER (checked from the file in dockerfile.test.ts).
 */
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withClient } from '../support/clients.js';
import { startStack } from '../support/stack.js';
import type { Stack } from '../support/stack.js';
import { listeningPorts, runExecutable, stackArgs } from './cli-process.js';
import { dockerignore, execForm, parseCopy, readDockerfile, steps } from './dockerfile.js';
import type { Stage } from './dockerfile.js';

const CONTEXT = path.resolve('.');
const VERSION = (JSON.parse(readFileSync('package.json', 'utf8')) as { version: string }).version;
const work = mkdtempSync(path.join(tmpdir(), 'rap-image-'));
const npmCache = path.join(work, 'npm-cache');
const ignored = dockerignore(existsSync('.dockerignore') ? readFileSync('.dockerignore', 'utf8') : '');
const stages = readDockerfile();
const runtime = stages[stages.length - 1] as Stage;

interface Built {
  readonly dir: string;
  readonly workdir: string;
  readonly env: Record<string, string>;
}
const built = new Map<string, Built>();
/** Every context file some COPY took, relative to the context. */
const copiedFromContext = new Set<string>();
let stack: Stack;

/** Context files under `rel` (a file or a directory) that .dockerignore lets through. */
function contextFiles(rel: string): string[] {
  const abs = path.join(CONTEXT, rel);
  if (!existsSync(abs) || ignored(path.posix.normalize(rel))) return [];
  if (!statSync(abs).isDirectory()) return [path.posix.normalize(rel)];
  return readdirSync(abs).flatMap((n) => contextFiles(path.posix.join(rel, n)));
}

/** Maps an image path (absolute, or relative to WORKDIR) into a stage's directory. */
const inStage = (b: Built, p: string): string => path.join(b.dir, path.posix.isAbsolute(p) ? p : path.posix.join(b.workdir, p));

function sh(command: string, cwd: string, env: Record<string, string>): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile('/bin/sh', ['-c', command], {
      cwd, timeout: 240_000, maxBuffer: 64 << 20,
      env: { ...process.env, ...env, npm_config_cache: npmCache, npm_config_audit: 'false', npm_config_fund: 'false' },
    }, (err, stdout, stderr) => (err ? reject(new Error(`RUN ${command}: ${err.message}\n${stdout}\n${stderr}`)) : resolve()));
  });
}

/** One stage, instruction by instruction. */
async function buildStage(stage: Stage, index: number): Promise<void> {
  const b: Built = { dir: path.join(work, `stage-${index}-${stage.name ?? 'unnamed'}`), workdir: '/', env: {} };
  mkdirSync(b.dir, { recursive: true });
  let current = b;
  for (const { op, args } of stage.steps) {
    if (op === 'WORKDIR') {
      current = { ...current, workdir: path.posix.resolve(current.workdir, args) };
      mkdirSync(inStage(current, '.'), { recursive: true });
    } else if (op === 'ENV') {
      const [k, ...v] = args.split('=');
      if (k) current.env[k.trim()] = v.join('=').trim();
    } else if (op === 'COPY') {
      const { from, sources, dest } = parseCopy(args);
      const destDir = dest.endsWith('/') || sources.length > 1;
      for (const src of sources) {
        const target = destDir ? path.join(inStage(current, dest), path.basename(src)) : inStage(current, dest);
        if (from !== undefined) {
          const other = built.get(from);
          if (!other) throw new Error(`COPY --from=${from}: no such earlier stage`);
          const source = inStage(other, src);
          if (!existsSync(source)) throw new Error(`COPY --from=${from} ${src}: not in that stage`);
          cpSync(source, target, { recursive: true });
          continue;
        }
        const files = contextFiles(src);
        if (files.length === 0) throw new Error(`COPY ${src}: not in the build context (missing, or excluded by .dockerignore)`);
        for (const f of files) {
          copiedFromContext.add(f);
          const rel = path.posix.relative(path.posix.normalize(src), f);
          const out = rel ? path.join(target, rel) : target;
          mkdirSync(path.dirname(out), { recursive: true });
          cpSync(path.join(CONTEXT, f), out);
        }
      }
    } else if (op === 'RUN') {
      await sh(args, inStage(current, '.'), current.env);
    }
  }
  built.set(stage.name ?? String(index), current);
  built.set(String(index), current);
}

beforeAll(async () => {
  for (const [i, stage] of stages.entries()) await buildStage(stage, i);
  stack = await startStack();
}, 420_000);

afterAll(async () => {
  await stack?.stop();
});

const runtimeBuilt = (): Built => built.get(String(stages.length - 1)) as Built;

/** `docker run [-e K=V] IMAGE args…`: the ENTRYPOINT in the runtime stage's WORKDIR with its ENV. */
function dockerRun(args: string[], env: NodeJS.ProcessEnv = {}) {
  const b = runtimeBuilt();
  const entry = execForm(steps(runtime, 'ENTRYPOINT').at(-1) ?? '[]');
  if (entry[0] !== 'node') throw new Error(`ENTRYPOINT ${entry.join(' ')}: this test runs node entrypoints`);
  const cwd = inStage(b, '.');
  const resolved = entry.slice(1).map((a) => (a.startsWith('-') ? a : path.join(cwd, a)));
  return runExecutable(process.execPath, [...resolved, ...args], { ...process.env, ...b.env, ...env });
}

function healthcheck(env: NodeJS.ProcessEnv): Promise<number> {
  const b = runtimeBuilt();
  const cmd = execForm(steps(runtime, 'HEALTHCHECK').at(-1) ?? '[]');
  const cwd = inStage(b, '.');
  return new Promise((resolve) => {
    execFile(cmd[0] === 'node' ? process.execPath : cmd[0] as string, cmd.slice(1), { cwd, env: { ...process.env, ...b.env, ...env } },
      (err) => resolve(err ? Number((err as { code?: unknown }).code ?? 1) : 0));
  });
}

describe('the image, built from the Dockerfile without a Docker daemon', () => {
  it('took its files from the context through .dockerignore, and none of the tests or scripts', () => {
    expect(copiedFromContext.size).toBeGreaterThan(10);
    for (const f of copiedFromContext) expect(f, f).not.toMatch(/^(test|scripts|node_modules|dist|\.git)\//);
    expect([...copiedFromContext].some((f) => f.startsWith('src/emulator/'))).toBe(true);
  });

  it('has production dependencies only in the runtime stage', () => {
    const modules = readdirSync(inStage(runtimeBuilt(), 'node_modules'));
    expect(modules).toContain('yargs');
    for (const dev of ['typescript', 'vitest', 'esbuild', 'pg']) expect(modules).not.toContain(dev);
  });

  it('starts: --version', async () => {
    const p = dockerRun(['--version']);
    expect(await p.exit, p.stderr()).toBe(0);
    expect(p.stdout()).toBe(`${VERSION}\n`);
  });

  it('runs the proxy: a client logs in through it, the HEALTHCHECK passes while it runs and fails after', async () => {
    // As `docker run -e REDSHIFT_AUTH_PROXY_HTTP_LISTEN=127.0.0.1:0 IMAGE --listen 127.0.0.1:0 …` (port 0: no fixed
    // ports in tests; the image's own CMD is checked by dockerfile.test.ts).
    const p = dockerRun(['--listen', '127.0.0.1:0', ...stackArgs(stack)], { REDSHIFT_AUTH_PROXY_HTTP_LISTEN: '127.0.0.1:0' });
    let httpPort = 0;
    try {
      const port = [...(await listeningPorts(p)).values()][0] as number;
      await p.waitForStderr(/operations endpoint/);
      httpPort = Number(p.logs(/operations endpoint/)[0]?.port);
      expect(httpPort).toBeGreaterThan(0);
      const user = await withClient(port, 'image-user', async (c) => (await c.query('select current_user as u')).rows[0].u as string);
      expect(user).toBe('IAMA:image-user');
      expect(await healthcheck({ REDSHIFT_AUTH_PROXY_HTTP_LISTEN: `127.0.0.1:${httpPort}` })).toBe(0);
    } finally {
      p.child.kill('SIGTERM');
    }
    expect(await p.exit).toBe(143);
    expect(await healthcheck({ REDSHIFT_AUTH_PROXY_HTTP_LISTEN: `127.0.0.1:${httpPort}` })).toBe(1);
  });
});
