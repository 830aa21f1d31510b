/**
 * The machine under the benchmark: installing what is missing (Debian packages, as .ci/run does), reading a
 * process's memory and CPU from /proc, running a command to completion, and describing the host for the report.
 */
import { execFile, spawn } from 'node:child_process';
import type { SpawnOptions } from 'node:child_process';
import { access, constants, readFile } from 'node:fs/promises';
import os from 'node:os';

/** Clock ticks per second for /proc/<pid>/stat times; 100 on every Linux we run on (USER_HZ). */
const CLK_TCK = 100;

/** Finds `pgbouncer` (Debian puts it in /usr/sbin, outside a normal user's PATH); installs it when missing. */
export async function ensurePgbouncer(): Promise<string> {
  return ensureDebianPackage('pgbouncer', () => findExecutable('pgbouncer', ['/usr/sbin', '/usr/local/sbin']));
}

/**
 * Finds an executable with `find`; when it is missing, installs the Debian package that has it (apt-get, as root
 * or through `sudo -n`) and looks again. Rejects when apt-get fails or the package brought no such executable.
 */
export async function ensureDebianPackage(pkg: string, find: () => Promise<string | undefined>): Promise<string> {
  const found = await find();
  if (found) return found;
  process.stderr.write(`bench: ${pkg} not found; installing the Debian package\n`);
  const asRoot = (args: string[]): Promise<string> => process.getuid?.() === 0
    ? execText(args[0] as string, args.slice(1), { env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } })
    : execText('sudo', ['-n', 'env', 'DEBIAN_FRONTEND=noninteractive', ...args]);
  await asRoot(['apt-get', 'update', '-qq']);
  await asRoot(['apt-get', 'install', '-y', '-qq', '--no-install-recommends', pkg]);
  const installed = await find();
  if (!installed) throw new Error(`apt-get installed ${pkg}, but the executable was not found`);
  return installed;
}

/** The first executable `name` on PATH or in one of `extraDirs`. */
export async function findExecutable(name: string, extraDirs: readonly string[] = []): Promise<string | undefined> {
  const dirs = [...(process.env.PATH ?? '').split(':').filter(Boolean), ...extraDirs];
  for (const dir of dirs) {
    const file = `${dir}/${name}`;
    if (await access(file, constants.X_OK).then(() => true, () => false)) return file;
  }
  return undefined;
}

export interface ProcSample {
  /** Resident set size, KiB (VmRSS). */
  readonly rssKb: number;
  /** User + system CPU time so far, seconds. */
  readonly cpuSeconds: number;
  /** The user and system parts of it. */
  readonly userSeconds: number;
  readonly systemSeconds: number;
}

export async function sampleProcess(pid: number): Promise<ProcSample> {
  const [status, stat] = await Promise.all([readFile(`/proc/${pid}/status`, 'utf8'), readFile(`/proc/${pid}/stat`, 'utf8')]);
  const rss = /^VmRSS:\s+(\d+) kB/m.exec(status);
  if (!rss) throw new Error(`no VmRSS in /proc/${pid}/status`);
  // The command name (field 2) may contain spaces; fields after its closing parenthesis are fixed.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // utime and stime are fields 14 and 15 of the whole line, 12 and 13 after the name.
  const user = Number(fields[11]) / CLK_TCK;
  const system = Number(fields[12]) / CLK_TCK;
  return { rssKb: Number(rss[1]), cpuSeconds: user + system, userSeconds: user, systemSeconds: system };
}

export interface Machine {
  readonly cpus: number;
  readonly cpuModel: string;
  readonly memoryGb: number;
  readonly node: string;
  readonly kernel: string;
  readonly postgres: string;
  readonly pgbouncer: string;
}

export async function describeMachine(pgbouncer: string): Promise<Machine> {
  const [postgres, bouncer] = await Promise.all([
    execText('pgbench', ['--version']).then((s) => /\d+(?:\.\d+)+/.exec(s)?.[0] ?? 'unknown', () => 'unknown'),
    execText(pgbouncer, ['--version']).then((s) => s.split('\n', 1)[0]?.trim() ?? 'unknown', () => 'unknown'),
  ]);
  return {
    cpus: os.availableParallelism(),
    cpuModel: os.cpus()[0]?.model.trim() ?? 'unknown',
    memoryGb: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    kernel: `${os.type()} ${os.release()}`,
    postgres,
    pgbouncer: bouncer,
  };
}

export interface RunResult {
  readonly stdout: string;
  readonly stderr: string;
  readonly ms: number;
}

/**
 * Runs a command to completion and times it; rejects with its stderr on a non-zero exit. `stdio` may hand the
 * child file descriptors (a file to read, /dev/null to write) so no byte of a bulk transfer passes through us.
 */
export function runTimed(file: string, args: readonly string[], options: SpawnOptions & { timeoutMs?: number } = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(file, args, { stdio: ['ignore', 'pipe', 'pipe'], ...options });
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (d: Buffer) => { stdout += d.toString(); });
    child.stderr?.on('data', (d: Buffer) => { stderr += d.toString(); });
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 300_000);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      const ms = performance.now() - started;
      if (code === 0) resolve({ stdout, stderr, ms });
      else reject(new Error(`${file} ${args.join(' ')} exited ${code ?? signal}: ${stderr.trim().slice(-2000)}`));
    });
  });
}

export function execText(file: string, args: readonly string[], options: { env?: NodeJS.ProcessEnv; cwd?: string } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { ...options, maxBuffer: 16 << 20, timeout: 600_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${file} ${args.join(' ')} failed: ${String(stderr).trim() || err.message}`, { cause: err }));
      else resolve(String(stdout));
    });
  });
}

/** The OS user to run pgbouncer as when we are root (it refuses root): the `postgres` user the server runs as. */
export async function serviceUser(): Promise<{ uid: number; gid: number } | undefined> {
  if (process.getuid?.() !== 0) return undefined;
  const [uid, gid] = await Promise.all([execText('id', ['-u', 'postgres']), execText('id', ['-g', 'postgres'])]);
  return { uid: Number(uid.trim()), gid: Number(gid.trim()) };
}

/** The environment for libpq tools: none of the developer's PG* settings, plus the given ones. */
export function libpqEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, PGCONNECT_TIMEOUT: '10' };
  for (const key of Object.keys(env)) if (key.startsWith('PG') && key !== 'PGCONNECT_TIMEOUT') delete env[key];
  return { ...env, ...extra };
}
