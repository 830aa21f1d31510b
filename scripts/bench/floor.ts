/**
 * `node dist/scripts/bench/floor.js [--rounds 3] [--seconds 8] [--proxy-args="--no-heal"]`: what a select transaction costs each middle
 * process — pgbouncer, the proxy, and the bare Node relay (bare-relay.ts: TLS to the server and nothing else) —
 * in user and system CPU µs, from /proc/<pid>/stat, the paths interleaved round by round in one run, with direct
 * connections' throughput beside them. Whatever separates the proxy from the bare relay is the proxy's own code;
 * whatever separates the bare relay from pgbouncer is Node's. Exit codes: 0 done, 1 failed, 2 bad usage.
 */
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { stopChild } from './pgbouncer.js';
import { startBench } from './setup.js';
import { ensurePgbouncer } from './system.js';
import { median, pgbenchTps } from './workloads.js';
import type { BenchPath } from './workloads.js';
import { runScript } from '../run-script.js';

const CLK_TCK = 100;

/** User and system CPU seconds of a process so far. */
async function cpuTimes(pid: number): Promise<{ user: number; system: number }> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { user: Number(fields[11]) / CLK_TCK, system: Number(fields[12]) / CLK_TCK };
}

async function main(argv: string[]): Promise<number> {
  let flags;
  try {
    flags = parseArgs({ args: argv, strict: true, options: {
      rounds: { type: 'string', default: '3' }, seconds: { type: 'string', default: '8' },
      'proxy-args': { type: 'string', default: '' } } }).values;
  } catch (err) {
    process.stderr.write(`floor: ${(err as Error).message}\n`);
    return 2;
  }
  const rounds = Number(flags.rounds);
  const seconds = Number(flags.seconds);
  if (!(Number.isInteger(rounds) && rounds > 0 && seconds > 0)) {
    process.stderr.write('floor: --rounds takes a positive integer, --seconds a positive number\n');
    return 2;
  }
  const bench = await startBench({ scale: 10, warm: undefined, pgbouncerBinary: await ensurePgbouncer(), idleSessions: 10,
    proxyArgs: flags['proxy-args'].split(/\s+/).filter(Boolean) });
  const bare = spawn(process.execPath, [path.resolve('dist/scripts/bench/bare-relay.js'), String(bench.bed.port), bench.bed.caCertPath],
    { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    const barePort = await new Promise<number>((resolve, reject) => {
      bare.stdout?.once('data', (d: Buffer) => resolve(Number(String(d).trim())));
      bare.once('exit', (code) => reject(new Error(`bare-relay exited ${code}`)));
    });
    const barePath: BenchPath = { ...bench.direct, name: 'bare-relay', pid: bare.pid as number,
      conninfo: bench.direct.conninfo.replace(/ port=\d+/, ` port=${barePort}`).replace('sslmode=verify-full', 'sslmode=disable') };
    const paths = [bench.direct, bench.pgbouncer, bench.proxy, barePath];
    const results = new Map<string, { tps: number[]; user: number[]; system: number[] }>();
    for (let round = 0; round < rounds; round++) {
      for (const p of [...paths.slice(round % paths.length), ...paths.slice(0, round % paths.length)]) {
        const before = p.pid ? await cpuTimes(p.pid) : undefined;
        const tps = await pgbenchTps(p, seconds, ['-M', 'extended']);
        const after = p.pid ? await cpuTimes(p.pid) : undefined;
        const r = results.get(p.name) ?? { tps: [], user: [], system: [] };
        r.tps.push(tps);
        if (before && after) {
          r.user.push(((after.user - before.user) / (tps * seconds)) * 1e6);
          r.system.push(((after.system - before.system) / (tps * seconds)) * 1e6);
        }
        results.set(p.name, r);
        process.stderr.write(`round ${round + 1}: ${p.name} ${tps.toFixed(0)} tps\n`);
      }
    }
    for (const [name, r] of results) {
      const cpu = r.user.length > 0
        ? `; middle CPU per transaction ${median(r.user).toFixed(1)} µs user + ${median(r.system).toFixed(1)} µs system` : '';
      process.stdout.write(`${name.padEnd(11)} ${median(r.tps).toFixed(0)} tps${cpu} (medians of ${rounds})\n`);
    }
    return 0;
  } finally {
    await stopChild(bare, 'SIGTERM');
    await bench.stop();
  }
}

runScript('floor', main);
