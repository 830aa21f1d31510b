/**
 * `node dist/scripts/bench/floor.js [--rounds 3] [--seconds 8] [--proxy-args="--no-heal"]`: the select workload of
 * `npm run bench` alone, with what each transaction costs each middle process — pgbouncer, the bare Go relay, the
 * bare Node relay (relays.ts) and the proxy — split into user and system CPU µs (/proc/<pid>/stat), the paths
 * interleaved round by round in one run, with direct connections' throughput beside them. `npm run bench` reports
 * the same floors (their sum) with the connection-rate and copy workloads; this is the quick look at one number.
 * Exit codes: 0 done, 1 failed, 2 bad usage.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { buildGoRelay } from './relays.js';
import { allPaths, startBench } from './setup.js';
import { ensurePgbouncer, sampleProcess } from './system.js';
import { median, pgbenchTps } from './workloads.js';
import { runScript } from '../run-script.js';

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
  const work = await mkdtemp(path.join(tmpdir(), 'rap-floor-'));
  const go = await buildGoRelay(work);
  if ('missing' in go) process.stderr.write(`floor: no bare Go relay: ${go.missing}\n`);
  const bench = await startBench({ scale: 10, warm: undefined, pgbouncerBinary: await ensurePgbouncer(), idleSessions: 10,
    proxyArgs: flags['proxy-args'].split(/\s+/).filter(Boolean), relays: { goBinary: 'binary' in go ? go.binary : undefined } });
  try {
    const paths = allPaths(bench);
    const results = new Map<string, { tps: number[]; user: number[]; system: number[] }>();
    for (let round = 0; round < rounds; round++) {
      for (const p of [...paths.slice(round % paths.length), ...paths.slice(0, round % paths.length)]) {
        const before = p.pid ? await sampleProcess(p.pid) : undefined;
        const tps = await pgbenchTps(p, seconds, ['-M', 'extended']);
        const after = p.pid ? await sampleProcess(p.pid) : undefined;
        const r = results.get(p.name) ?? { tps: [], user: [], system: [] };
        r.tps.push(tps);
        if (before && after) {
          r.user.push(((after.userSeconds - before.userSeconds) / (tps * seconds)) * 1e6);
          r.system.push(((after.systemSeconds - before.systemSeconds) / (tps * seconds)) * 1e6);
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
    await bench.stop();
    await rm(work, { recursive: true, force: true });
  }
}

runScript('floor', main);
