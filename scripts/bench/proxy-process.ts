/**
 * The proxy as users run it — the built executable in its own process — so its CPU time and RSS can be read from
 * /proc/<pid> apart from the benchmark's. It logs at its default level (info) to a pipe we drain. With
 * `reportMemory`, the soak test's heap reporter is preloaded (`--expose-gc --import heap-reporter.js`): on request
 * it collects garbage and reports what is still in use, and otherwise does nothing.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { stopChild } from './pgbouncer.js';
import { execText } from './system.js';

const BIN = path.resolve('dist/src/bin.js');
const REPORTER = pathToFileURL(path.resolve('dist/scripts/load/heap-reporter.js')).href;

export interface ProxyProcessOptions {
  readonly upstreamPort: number;
  readonly caFile: string;
  readonly clusterId: string;
  readonly region: string;
  readonly awsEndpointUrl: string;
  /** Flags beyond the ones every run needs (e.g. `--warm 8`). */
  readonly extraArgs?: readonly string[];
  /** Node options for the child (e.g. `--cpu-prof`). */
  readonly nodeArgs?: readonly string[];
  /** Preload the heap reporter, for memoryAfterGc. */
  readonly reportMemory?: boolean;
  /** Environment beyond ours (e.g. MALLOC_ARENA_MAX), for trying what a launcher could set. */
  readonly env?: Readonly<Record<string, string>>;
}

/** The proxy's own memory figures right after a full garbage collection. */
export interface MemoryAfterGc {
  readonly rssMb: number;
  readonly heapUsedMb: number;
  /** Memory V8 objects hold outside the JS heap (Buffers among them). */
  readonly externalMb?: number;
}

export interface ProxyProcess {
  readonly port: number;
  readonly pid: number;
  /** With reportMemory: asks the process to collect garbage and report (SIGUSR2), and returns what it reported. */
  memoryAfterGc?(): Promise<MemoryAfterGc>;
  /** SIGTERM, then wait for the exit (a CPU profile is written then). */
  stop(): Promise<void>;
}

export async function startProxyProcess(o: ProxyProcessOptions): Promise<ProxyProcess> {
  const memoryDir = o.reportMemory ? await mkdtemp(path.join(tmpdir(), 'rap-bench-memory-')) : undefined;
  const memoryFile = memoryDir ? path.join(memoryDir, 'memory.jsonl') : undefined;
  const reporterArgs = memoryFile ? heapReporterArgs(memoryFile).args : [];
  const args = [...(o.nodeArgs ?? []), ...reporterArgs, BIN, '--listen', '127.0.0.1:0', '--upstream', `localhost:${o.upstreamPort}`,
    '--cluster-id', o.clusterId, '--region', o.region, '--aws-endpoint-url', o.awsEndpointUrl, '--ca-file', o.caFile,
    // The bench and load runs hold hundreds of sessions at once: above the default upstream budget on purpose.
    '--auto-create', '--shutdown-grace', '1', '--max-upstream-connections', '2000', ...(o.extraArgs ?? [])];
  // The AWS_* variables of the test principal are in our environment (useTestAwsEnvironment).
  const env = { ...process.env, ...o.env, ...(memoryFile ? heapReporterArgs(memoryFile).env : {}) };
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'], env });
  let tail = '';
  const port = await new Promise<number>((resolve, reject) => {
    let pending = '';
    let listening = false;
    const timer = setTimeout(() => reject(new Error(`the proxy did not log "listening" within 30 s:\n${tail}`)), 30_000);
    child.stderr?.on('data', (d: Buffer) => {
      const text = d.toString();
      tail = (tail + text).slice(-10_000);
      if (listening) return;
      pending += text;
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) {
        const entry = parseJson(line);
        if (entry?.msg === 'listening' && typeof entry.port === 'number') {
          clearTimeout(timer);
          listening = true;
          resolve(entry.port);
        }
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the proxy exited ${code} before listening:\n${tail}`));
    });
  });
  const stop = async (): Promise<void> => {
    await stopChild(child, 'SIGTERM');
    if (memoryDir) await rm(memoryDir, { recursive: true, force: true });
  };
  if (!memoryFile) return { port, pid: child.pid as number, stop };
  const memoryAfterGc = (): Promise<MemoryAfterGc> => askMemoryAfterGc(child, memoryFile);
  return { port, pid: child.pid as number, stop, memoryAfterGc };
}

/** The heap reporter's argument list for a Node child that is to report to `memoryFile` on SIGUSR2. */
export function heapReporterArgs(memoryFile: string): { args: string[]; env: Record<string, string> } {
  return { args: ['--expose-gc', '--import', REPORTER], env: { RAP_LOAD_MEMORY_FILE: memoryFile, RAP_LOAD_MEMORY_ON_SIGNAL: '1' } };
}

/** Sends SIGUSR2 to a child started with heapReporterArgs and returns what it reported after its collection. */
export async function askMemoryAfterGc(child: ChildProcess, memoryFile: string): Promise<MemoryAfterGc> {
  const lines = async (): Promise<string[]> => (await readFile(memoryFile, 'utf8').catch(() => '')).split('\n').filter(Boolean);
  const before = (await lines()).length;
  child.kill('SIGUSR2');
  for (let waited = 0; waited < 5_000; waited += 50) {
    const all = await lines();
    if (all.length > before) {
      const m = JSON.parse(all.at(-1) as string) as { rss: number; heapUsed: number; external: number; afterGc: boolean };
      if (!m.afterGc) throw new Error('the process ran without --expose-gc: no figures after a collection');
      return { rssMb: m.rss / 1048576, heapUsedMb: m.heapUsed / 1048576, externalMb: m.external / 1048576 };
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('the process did not report its memory within 5 s of SIGUSR2');
}

/** Whether this build of the proxy offers the warm upstream pool (`--warm N`): read from its own --help. */
export async function proxySupportsWarm(): Promise<boolean> {
  const help = await execText(process.execPath, [BIN, '--help']).catch(() => '');
  return /--warm\b/.test(help);
}

function parseJson(line: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(line);
    return typeof value === 'object' && value !== null ? value as Record<string, unknown> : undefined;
  } catch {
    return undefined;
  }
}
