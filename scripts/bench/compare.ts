/**
 * `node dist/scripts/bench/compare.js --save NAME` keeps the current build (dist/) as NAME in .tmp/bench-builds/.
 * `node dist/scripts/bench/compare.js [--rounds 10] [--mb 200] [--seconds 8] [--only copy,select,connrate,connect] A B [C …]` runs
 * saved builds of the proxy side by side against one PostgreSQL and prints each build's medians and, for B, C …,
 * the median of its per-round ratios to A. `connrate` is pgbench -C (a login per transaction) with the build's CPU ms
 * per connection; `connect` is the p50/p99 of 200 sequential logins.
 *
 * For changes worth a few per cent, which machine noise hides in `npm run bench`: every build serves the same
 * workload in each round (order rotated), and each figure is compared with A's from the same round. Besides CPU
 * seconds per GB of `\copy` out (all threads, as the bench reports) it reads the main thread alone
 * (/proc/<pid>/task/<pid>/stat — garbage-collector helper threads swing between 0.1 and 2 s/GB from one copy to
 * the next) and write system calls per MB (/proc/<pid>/io); for the select load, CPU µs per pgbench transaction.
 * Each build logs in as its own database user: the emulator sets a new password for every credential it issues,
 * so builds sharing a user would keep invalidating each other's cached one.
 * Exit codes: 0 done, 1 failed, 2 bad usage, 130 on SIGINT.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cp, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { createPgDataPlane, startEmulator } from '../../src/emulator/index.js';
import { startTestBed } from '../../test/support/pg-server.js';
import { TEST_CLUSTER, TEST_REGION, testPrincipal, useTestAwsEnvironment } from '../../test/support/stack.js';
import { stopChild } from './pgbouncer.js';
import { BULK_ROW_BYTES, bulkQuery } from './rounds.js';
import { libpqEnv, runTimed, sampleProcess } from './system.js';
import { connectLatencies, copyOut, cpuPercentDuring, median, percentile, pgbenchTps } from './workloads.js';
import type { BenchPath } from './workloads.js';
import { runScript } from '../run-script.js';

const BUILDS = path.resolve('.tmp/bench-builds');
const DATABASE = 'dev';
const CLK_TCK = 100;

const say = (line: string): void => {
  process.stderr.write(`${line}\n`);
};

interface Counters {
  readonly mainCpuSeconds: number;
  readonly writeCalls: number;
}

/** The main thread's CPU time and the process's write system calls so far. */
async function counters(pid: number): Promise<Counters> {
  const [stat, io] = await Promise.all([readFile(`/proc/${pid}/task/${pid}/stat`, 'utf8'), readFile(`/proc/${pid}/io`, 'utf8')]);
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const writes = /^syscw: (\d+)/m.exec(io);
  return { mainCpuSeconds: (Number(fields[11]) + Number(fields[12])) / CLK_TCK, writeCalls: Number(writes?.[1] ?? Number.NaN) };
}

/** Starts a saved build as users run it, logging to a pipe we drain; resolves once it listens. */
async function startBuild(name: string, args: readonly string[]): Promise<{ port: number; pid: number; stop: () => Promise<void> }> {
  const child = spawn(process.execPath, [path.join(BUILDS, name, 'src/bin.js'), ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  let tail = '';
  const port = await new Promise<number>((resolve, reject) => {
    child.stderr?.on('data', (d: Buffer) => {
      tail = (tail + d.toString()).slice(-10_000);
      const listening = /"port":(\d+)[^\n]*"msg":"listening"/.exec(tail);
      if (listening) resolve(Number(listening[1]));
    });
    child.once('exit', (code) => reject(new Error(`build ${name} exited ${code} before listening:\n${tail}`)));
  });
  return { port, pid: child.pid as number, stop: () => stopChild(child, 'SIGTERM') };
}

type Results = Map<string, number[]>;

function add(r: Results, key: string, value: number): void {
  r.set(key, [...(r.get(key) ?? []), value]);
}

function report(r: Results, names: readonly string[]): string[] {
  const lines: string[] = [];
  const metrics = [...new Set([...r.keys()].map((k) => k.split(' ')[0] as string))];
  for (const metric of metrics) {
    for (const name of names) {
      const values = r.get(`${metric} ${name}`);
      if (!values) continue;
      const base = r.get(`${metric} ${names[0]}`) ?? [];
      const ratio = name === names[0] ? '' : `  ratio to ${names[0]} ${median(values.map((v, i) => v / (base[i] ?? Number.NaN))).toFixed(3)}`;
      lines.push(`${metric.padEnd(26)} ${name.padEnd(12)} median ${median(values).toFixed(2).padStart(9)}${ratio}`);
    }
  }
  return lines;
}

async function main(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, strict: true, allowPositionals: true, options: {
      save: { type: 'string' }, rounds: { type: 'string', default: '10' }, mb: { type: 'string', default: '200' },
      seconds: { type: 'string', default: '8' }, only: { type: 'string', default: 'copy,select' },
    } });
  } catch (err) {
    say(`compare: ${(err as Error).message}`);
    return 2;
  }
  const { values: flags, positionals: names } = parsed;
  if (flags.save !== undefined) {
    if (!/^[\w.-]+$/.test(flags.save) || !existsSync('dist/src/bin.js')) {
      say('compare: --save takes a name ([A-Za-z0-9_.-]) and needs a build in dist/ (npm run build)');
      return 2;
    }
    await rm(path.join(BUILDS, flags.save), { recursive: true, force: true });
    await cp('dist', path.join(BUILDS, flags.save), { recursive: true });
    say(`compare: saved dist/ as ${path.join(BUILDS, flags.save)}`);
    return 0;
  }
  const rounds = Number(flags.rounds);
  const mb = Number(flags.mb);
  const seconds = Number(flags.seconds);
  const only = new Set(flags.only.split(','));
  const missing = names.filter((n) => !existsSync(path.join(BUILDS, n, 'src/bin.js')));
  if (names.length < 2 || missing.length > 0 || !(rounds > 0 && mb > 0 && seconds > 0)) {
    say(`compare: give two or more builds saved with --save${missing.length > 0 ? ` (not found: ${missing.join(', ')})` : ''}`);
    return 2;
  }

  useTestAwsEnvironment();
  const stops: Array<() => Promise<void>> = [];
  const work = await mkdtemp(path.join(tmpdir(), 'rap-compare-'));
  stops.push(() => rm(work, { recursive: true, force: true }));
  process.once('SIGINT', () => {
    void Promise.allSettled(stops.reverse().map((s) => s())).finally(() => process.exit(130));
  });
  try {
    const bed = await startTestBed({ maxConnections: 100 });
    stops.push(() => bed.stop());
    await runTimed('pgbench', ['-i', '-s', '10', '-q', '-h', bed.socketDir, '-p', String(bed.port), '-U', 'postgres', DATABASE],
      { env: libpqEnv(), timeoutMs: 600_000 });
    await bed.superuserQuery('GRANT SELECT ON ALL TABLES IN SCHEMA public TO PUBLIC');
    await bed.superuserQuery('VACUUM ANALYZE');
    const emulator = await startEmulator({
      principals: [testPrincipal],
      clusters: [{ id: TEST_CLUSTER, endpoint: { address: 'localhost', port: bed.port }, region: TEST_REGION }],
      dataPlane: createPgDataPlane((sql, params) => bed.superuserQuery(sql, params), { database: DATABASE }),
    });
    stops.push(() => emulator.close());
    const paths: BenchPath[] = [];
    for (const name of names) {
      const build = await startBuild(name, ['--listen', '127.0.0.1:0', '--upstream', `localhost:${bed.port}`,
        '--cluster-id', TEST_CLUSTER, '--region', TEST_REGION, '--aws-endpoint-url', emulator.url, '--ca-file', bed.caCertPath,
        '--auto-create', '--shutdown-grace', '1']);
      stops.push(build.stop);
      const user = `bench_${name.replace(/\W/g, '_')}`;
      paths.push({ name, pid: build.pid, env: {},
        conninfo: `host=127.0.0.1 port=${build.port} dbname=${DATABASE} user=${user} sslmode=disable gssencmode=disable`,
        wire: { host: '127.0.0.1', port: build.port, user, database: DATABASE } });
    }

    const rows = Math.round((mb * 1e6) / BULK_ROW_BYTES);
    const bulkFile = path.join(work, 'bulk.tsv');
    // One copy through each build first: logs in (credential fetched) and warms the JIT; it also measures the size.
    for (const p of paths) await copyOut(p, bulkQuery(rows), 1, bulkFile);
    const bytes = (await stat(bulkFile)).size;
    const r: Results = new Map();
    for (let round = 0; round < rounds; round++) {
      const order = [...paths.slice(round % paths.length), ...paths.slice(0, round % paths.length)];
      say(`round ${round + 1}/${rounds}: ${order.map((p) => p.name).join(', ')}`);
      if (only.has('copy')) {
        for (const p of order) {
          const pid = p.pid as number;
          const before = await counters(pid);
          const out = await copyOut(p, bulkQuery(rows), bytes);
          const after = await counters(pid);
          add(r, `copy_mbps ${p.name}`, out.mbPerSecond);
          add(r, `copy_cpu_s_per_gb ${p.name}`, out.cpuSecondsPerGb ?? Number.NaN);
          add(r, `copy_main_cpu_s_per_gb ${p.name}`, (after.mainCpuSeconds - before.mainCpuSeconds) / (bytes / 1e9));
          add(r, `copy_writes_per_mb ${p.name}`, (after.writeCalls - before.writeCalls) / (bytes / 1e6));
        }
      }
      if (only.has('connrate')) {
        for (const p of order) {
          // pgbench -C: a new connection (login, one select, goodbye) per transaction.
          const s = await cpuPercentDuring(p, () => pgbenchTps(p, seconds, ['-C']));
          add(r, `connrate_per_s ${p.name}`, s.value);
          add(r, `connrate_cpu_ms_per_conn ${p.name}`, ((s.cpuPercent ?? Number.NaN) * 10) / s.value);
        }
      }
      if (only.has('connect')) {
        for (const p of order) {
          const ms = await connectLatencies(p, 200);
          add(r, `connect_p50_ms ${p.name}`, percentile(ms, 0.5));
          add(r, `connect_p99_ms ${p.name}`, percentile(ms, 0.99));
        }
      }
      if (only.has('select')) {
        for (const p of order) {
          const s = await cpuPercentDuring(p, () => pgbenchTps(p, seconds, ['-M', 'extended']));
          add(r, `select_tps ${p.name}`, s.value);
          add(r, `select_cpu_us_per_txn ${p.name}`, ((s.cpuPercent ?? Number.NaN) * 1e4) / s.value);
        }
      }
    }
    process.stdout.write(`${report(r, names).join('\n')}\n`);
    // The processes' RSS at the end, for a leak that would otherwise go unnoticed.
    for (const p of paths) say(`${p.name}: RSS ${((await sampleProcess(p.pid as number)).rssKb / 1024).toFixed(0)} MB at the end`);
    return 0;
  } finally {
    for (const s of stops.reverse()) await s().catch((err: unknown) => say(`compare: cleanup: ${String(err)}`));
  }
}

runScript('compare', main);
