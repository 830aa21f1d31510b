/**
 * The floors under the proxy: bare relays that verify the server over TLS and then only move bytes — bare-relay.ts
 * in Node, go-relay/main.go in Go (built here with Debian's golang-go, installed like pgbouncer when missing).
 * Whatever separates the proxy from the Node relay is the proxy's own code; whatever separates the Node relay from
 * the Go relay and pgbouncer is Node's. Each prints its port on stdout and runs until SIGTERM.
 */
import { spawn } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { stopChild } from './pgbouncer.js';
import { ensureDebianPackage, execText, findExecutable } from './system.js';

export interface RelayProcess {
  readonly port: number;
  readonly pid: number;
  stop(): Promise<void>;
}

/** The Go relay, built; or why there is none (the bench reports the other paths and says so). */
export type GoRelayBuild = { readonly binary: string; readonly go: string } | { readonly missing: string };

const GO_SOURCE = 'scripts/bench/go-relay/main.go';

/** Starts `command UPSTREAM_PORT CA_FILE` and resolves with the port it prints. */
export async function startRelay(command: string, args: readonly string[], upstreamPort: number, caFile: string): Promise<RelayProcess> {
  const child = spawn(command, [...args, String(upstreamPort), caFile], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => { stderr = (stderr + d.toString()).slice(-4_000); });
  try {
    const port = await new Promise<number>((resolve, reject) => {
      let out = '';
      child.stdout?.on('data', (d: Buffer) => {
        out += d.toString();
        const line = /^(\d+)\n/.exec(out);
        if (line) resolve(Number(line[1]));
      });
      child.once('exit', (code) => reject(new Error(`${path.basename(command)} exited ${code} before listening: ${stderr.trim()}`)));
      child.once('error', reject);
    });
    return { port, pid: child.pid as number, stop: () => stopChild(child, 'SIGTERM') };
  } catch (err) {
    await stopChild(child, 'SIGKILL');
    throw err;
  }
}

/** The bare Node relay, run by this Node from the build in dist/. */
export function startNodeRelay(upstreamPort: number, caFile: string): Promise<RelayProcess> {
  return startRelay(process.execPath, [path.resolve('dist/scripts/bench/bare-relay.js')], upstreamPort, caFile);
}

/**
 * Builds the Go relay into `outDir` with the standard library only: GOPROXY=off (nothing to download) and
 * GOTOOLCHAIN=local, caches under ~/.cache/rap-bench-go unless GOCACHE/GOPATH are set. Installs golang-go when
 * `go` is missing; never rejects — a machine without Go gets the reason instead.
 */
export async function buildGoRelay(outDir: string): Promise<GoRelayBuild> {
  let go: string;
  try {
    go = await ensureDebianPackage('golang-go', () => findExecutable('go', ['/usr/lib/go/bin', '/usr/local/go/bin']));
  } catch (err) {
    return { missing: `no Go toolchain (${firstLine(err)})` };
  }
  const cache = path.join(os.homedir(), '.cache', 'rap-bench-go');
  const env: NodeJS.ProcessEnv = { ...process.env, GOPROXY: 'off', GOTOOLCHAIN: 'local', GOFLAGS: '', CGO_ENABLED: '0',
    GOCACHE: process.env.GOCACHE ?? path.join(cache, 'build'), GOPATH: process.env.GOPATH ?? path.join(cache, 'path') };
  const binary = path.join(outDir, 'go-relay');
  try {
    await mkdir(outDir, { recursive: true });
    const version = (await execText(go, ['version'], { env })).trim().split(' ')[2] ?? 'go';
    await execText(go, ['build', '-o', binary, path.resolve(GO_SOURCE)], { env, cwd: outDir });
    return { binary, go: version };
  } catch (err) {
    return { missing: `go build of ${GO_SOURCE} failed (${firstLine(err)})` };
  }
}

function firstLine(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).split('\n', 1)[0] ?? '';
}
