/**
 * `node dist/scripts/bench/session-memory.js [--sessions 500] [--repeat 3] [--try "NAME|ENV=V …|--node-flag …"]…`
 *
 * Memory per idle session as the OS sees it (idle-memory.ts) for pgbouncer, the bare Go relay (when Go can be had),
 * the bare Node relay (bare-relay.ts: the same verified TLS upstream, no proxy logic) and the proxy, each a fresh process that has made three logins and
 * nothing else; then the same sessions opened again in that process ("again": memory freed by the first batch
 * absorbs the second). Node processes also report their JS heap after a full collection. Each --try starts the
 * bare relay and the proxy again with that environment and those Node flags, e.g.
 * `--try "arena2|MALLOC_ARENA_MAX=2|"` or `--try "semi1||--max-semi-space-size=1"`. Medians over --repeat runs.
 * Exit codes: 0 done, 1 failed, 2 bad usage.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { describeSessionMemory, OS_FIELDS, sessionMemory } from './idle-memory.js';
import type { SessionMemory } from './idle-memory.js';
import { startPgbouncer, stopChild } from './pgbouncer.js';
import { askMemoryAfterGc, heapReporterArgs, startProxyProcess } from './proxy-process.js';
import type { MemoryAfterGc } from './proxy-process.js';
import { buildGoRelay, startRelay } from './relays.js';
import { startBench } from './setup.js';
import type { Bench } from './setup.js';
import { ensurePgbouncer } from './system.js';
import { connectLatencies, median } from './workloads.js';
import type { BenchPath } from './workloads.js';
import { runScript } from '../run-script.js';
import { TEST_CLUSTER, TEST_REGION } from '../../test/support/stack.js';

interface Tuning {
  readonly name: string;
  readonly env: Record<string, string>;
  readonly nodeArgs: string[];
}

interface Middle {
  readonly path: BenchPath;
  readonly afterGc?: () => Promise<MemoryAfterGc>;
  stop(): Promise<void>;
}

function parseTuning(text: string): Tuning {
  const [name = '', env = '', args = ''] = text.split('|');
  const words = (s: string): string[] => s.split(/\s+/).filter(Boolean);
  return { name, nodeArgs: words(args), env: Object.fromEntries(words(env).map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)])) };
}

async function main(argv: string[]): Promise<number> {
  let flags;
  try {
    flags = parseArgs({ args: argv, strict: true, options: {
      sessions: { type: 'string', default: '500' }, repeat: { type: 'string', default: '3' },
      try: { type: 'string', multiple: true, default: [] }, 'no-default': { type: 'boolean', default: false } } }).values;
  } catch (err) {
    process.stderr.write(`session-memory: ${(err as Error).message}\n`);
    return 2;
  }
  const sessions = Number(flags.sessions);
  const repeat = Number(flags.repeat);
  const tunings = [...(flags['no-default'] ? [] : [{ name: 'default', env: {}, nodeArgs: [] }]), ...flags.try.map(parseTuning)];
  if (!(Number.isInteger(sessions) && sessions > 0 && Number.isInteger(repeat) && repeat > 0) || tunings.some((t) => !t.name)) {
    process.stderr.write('session-memory: --sessions and --repeat take positive integers, --try "NAME|ENV=V …|--flag …"\n');
    return 2;
  }
  const pgbouncerBinary = await ensurePgbouncer();
  const work = await mkdtemp(path.join(tmpdir(), 'rap-session-memory-'));
  const go = await buildGoRelay(work);
  if ('missing' in go) process.stderr.write(`session-memory: no Go relay: ${go.missing}\n`);
  const bench = await startBench({ scale: 1, warm: undefined, pgbouncerBinary, idleSessions: sessions });
  const results = new Map<string, SessionMemory[][]>();
  try {
    for (let r = 0; r < repeat; r++) {
      const starts: Array<[string, () => Promise<Middle>]> = [['pgbouncer', () => freshPgbouncer(bench, pgbouncerBinary, sessions)]];
      if ('binary' in go) starts.push(['go relay', () => goRelay(bench, go.binary)]);
      for (const t of tunings) {
        const suffix = t.name === 'default' ? '' : ` [${t.name}]`;
        starts.push([`node relay${suffix}`, () => nodeRelay(bench, t)], [`proxy${suffix}`, () => proxy(bench, t)]);
      }
      for (const [name, start] of starts) {
        if (flags['no-default'] && (name === 'pgbouncer' || name === 'go relay')) continue;
        const m = await start();
        try {
          await connectLatencies(m.path, 3);
          const first = await sessionMemory(m.path, sessions, m.afterGc);
          const again = await sessionMemory(m.path, sessions, m.afterGc);
          process.stderr.write(`${r + 1}/${repeat} ${name}: ${describeSessionMemory(first)}\n    again: ${describeSessionMemory(again)}\n`);
          results.set(name, [...(results.get(name) ?? []), [first, again]]);
        } finally {
          await m.stop();
        }
      }
    }
  } finally {
    await bench.stop();
    await rm(work, { recursive: true, force: true });
  }
  const k = (values: Array<number | undefined>): string => {
    const known = values.filter((v): v is number => v !== undefined);
    return known.length === 0 ? '–' : median(known).toFixed(1);
  };
  process.stdout.write(`\nKB per idle session (${sessions} held, each logged in with its upstream; medians of ${repeat}; ` +
    '"again": the same in the same process after the first batch closed)\n\n');
  const head = ['middle', ...OS_FIELDS, 'marginal vmRss', 'JS heap', 'external', 'RSS after GC', 'again vmRss', 'again heap'];
  process.stdout.write(`| ${head.join(' | ')} |\n| ${head.map(() => '---').join(' | ')} |\n`);
  for (const [name, runs] of results) {
    const first = runs.map((x) => x[0] as SessionMemory);
    const again = runs.map((x) => x[1] as SessionMemory);
    const cells = [name, ...OS_FIELDS.map((f) => k(first.map((m) => m.perSession[f]))), k(first.map((m) => m.marginalVmRssKb)), k(first.map((m) => m.heapPerSessionKb)),
      k(first.map((m) => m.externalPerSessionKb)), k(first.map((m) => m.rssAfterGcPerSessionKb)), k(again.map((m) => m.perSession.vmRss)), k(again.map((m) => m.heapPerSessionKb))];
    process.stdout.write(`| ${cells.join(' | ')} |\n`);
  }
  return 0;
}

async function freshPgbouncer(b: Bench, binary: string, sessions: number): Promise<Middle> {
  const w = b.direct.wire;
  const bouncer = await startPgbouncer({ binary, serverPort: b.bed.port, caFile: b.bed.caCertPath, user: w.user,
    password: w.password ?? '', database: w.database, poolSize: sessions + 100, maxClients: sessions + 200 });
  return { path: { ...b.pgbouncer, pid: bouncer.pid, wire: { ...b.pgbouncer.wire, port: bouncer.port } }, stop: () => bouncer.stop() };
}

async function goRelay(b: Bench, binary: string): Promise<Middle> {
  const r = await startRelay(binary, [], b.bed.port, b.bed.caCertPath);
  const w = b.direct.wire;
  return { path: { ...b.direct, name: 'go_relay', pid: r.pid,
    wire: { host: '127.0.0.1', port: r.port, user: w.user, database: w.database, password: w.password } as BenchPath['wire'] },
  stop: () => r.stop() };
}

async function nodeRelay(b: Bench, t: Tuning): Promise<Middle> {
  const dir = await mkdtemp(path.join(tmpdir(), 'rap-relay-memory-'));
  const file = path.join(dir, 'memory.jsonl');
  const reporter = heapReporterArgs(file);
  const child = spawn(process.execPath, [...t.nodeArgs, ...reporter.args, path.resolve('dist/scripts/bench/bare-relay.js'),
    String(b.bed.port), b.bed.caCertPath], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, ...t.env, ...reporter.env } });
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout?.once('data', (d: Buffer) => resolve(Number(String(d).trim())));
    child.once('exit', (code) => reject(new Error(`bare-relay exited ${code}`)));
  });
  const w = b.direct.wire;
  return {
    path: { ...b.direct, name: 'node_relay', pid: child.pid as number,
      wire: { host: '127.0.0.1', port, user: w.user, database: w.database, password: w.password } as BenchPath['wire'] },
    afterGc: () => askMemoryAfterGc(child, file),
    stop: async () => {
      await stopChild(child, 'SIGTERM');
      await rm(dir, { recursive: true, force: true });
    },
  };
}

async function proxy(b: Bench, t: Tuning): Promise<Middle> {
  const p = await startProxyProcess({ upstreamPort: b.bed.port, caFile: b.bed.caCertPath, clusterId: TEST_CLUSTER,
    region: TEST_REGION, awsEndpointUrl: b.awsEndpointUrl, reportMemory: true, env: t.env, nodeArgs: t.nodeArgs });
  return { path: { ...b.proxy, pid: p.pid, wire: { ...b.proxy.wire, port: p.port } },
    afterGc: p.memoryAfterGc, stop: () => p.stop() };
}

runScript('session-memory', main);
