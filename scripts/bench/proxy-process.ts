/**
 * The proxy as users run it — the built executable in its own process — so its CPU time and RSS can be read from
 * /proc/<pid> apart from the benchmark's. It logs at its default level (info) to a pipe we drain, and serves
 * /metrics on a loopback port of its choosing, from which the bench reads its JS heap in use.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { stopChild } from './pgbouncer.js';
import { execText } from './system.js';

const BIN = path.resolve('dist/src/bin.js');

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
}

export interface ProxyProcess {
  readonly port: number;
  /** Where its /metrics is served. */
  readonly metricsUrl: string;
  readonly pid: number;
  /** SIGTERM, then wait for the exit (a CPU profile is written then). */
  stop(): Promise<void>;
}

export async function startProxyProcess(o: ProxyProcessOptions): Promise<ProxyProcess> {
  const args = [...(o.nodeArgs ?? []), BIN, '--listen', '127.0.0.1:0', '--upstream', `localhost:${o.upstreamPort}`,
    '--cluster-id', o.clusterId, '--region', o.region, '--aws-endpoint-url', o.awsEndpointUrl, '--ca-file', o.caFile,
    '--auto-create', '--shutdown-grace', '1', '--http-listen', '127.0.0.1:0', ...(o.extraArgs ?? [])];
  // The AWS_* variables of the test principal are in our environment (useTestAwsEnvironment).
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'], env: process.env });
  let tail = '';
  let opsPort: number | undefined;
  const port = await new Promise<number>((resolve, reject) => {
    let pending = '';
    let listening: number | undefined;
    const timer = setTimeout(() => reject(new Error(`the proxy did not log "listening" within 30 s:\n${tail}`)), 30_000);
    child.stderr?.on('data', (d: Buffer) => {
      const text = d.toString();
      tail = (tail + text).slice(-10_000);
      if (listening !== undefined && opsPort !== undefined) return;
      pending += text;
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) {
        const entry = parseJson(line);
        if (entry?.msg === 'listening' && typeof entry.port === 'number') listening = entry.port;
        if (typeof entry?.msg === 'string' && entry.msg.startsWith('operations endpoint') && typeof entry.port === 'number') {
          opsPort = entry.port;
        }
        if (listening !== undefined && opsPort !== undefined) {
          clearTimeout(timer);
          resolve(listening);
        }
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the proxy exited ${code} before listening:\n${tail}`));
    });
  });
  return { port, metricsUrl: `http://127.0.0.1:${opsPort}/metrics`, pid: child.pid as number, stop: () => stopChild(child, 'SIGTERM') };
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
