/**
 * `node dist/scripts/bench/memory-repeat.js [--rounds 4] [--mb 50]`: the same round of work through the proxy alone,
 * again and again, with its RSS and JS heap read right after a full garbage collection at the end of each round.
 * A leak shows as a heap that rises round after round; garbage not yet collected does not count. A round: 6 s of
 * select load, 5 s of connection rate, 200 sequential logins, a `\copy` out and in of --mb megabytes, and 500 idle
 * sessions held. Exit codes: 0 done, 1 failed, 2 bad usage.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { BULK_ROW_BYTES, bulkQuery } from './rounds.js';
import { startBench } from './setup.js';
import { ensurePgbouncer } from './system.js';
import { connectLatencies, copyIn, copyOut, idleSessionMemory, pgbenchTps } from './workloads.js';
import { runScript } from '../run-script.js';

async function main(argv: string[]): Promise<number> {
  let flags;
  try {
    flags = parseArgs({ args: argv, strict: true, options: {
      rounds: { type: 'string', default: '4' }, mb: { type: 'string', default: '50' } } }).values;
  } catch (err) {
    process.stderr.write(`memory-repeat: ${(err as Error).message}\n`);
    return 2;
  }
  const rounds = Number(flags.rounds);
  const mb = Number(flags.mb);
  if (!(Number.isInteger(rounds) && rounds > 0 && mb > 0)) {
    process.stderr.write('memory-repeat: --rounds takes a positive integer, --mb a positive number\n');
    return 2;
  }
  const work = await mkdtemp(path.join(tmpdir(), 'rap-memory-'));
  const bench = await startBench({ scale: 10, warm: undefined, pgbouncerBinary: await ensurePgbouncer(), idleSessions: 500 });
  try {
    const rows = Math.round((mb * 1e6) / BULK_ROW_BYTES);
    const bulkFile = path.join(work, 'bulk.tsv');
    await copyOut(bench.direct, bulkQuery(rows), 1, bulkFile);
    const p = bench.proxy;
    const start = await bench.proxyMemoryAfterGc();
    process.stdout.write(`start:    RSS ${start.rssMb.toFixed(1)} MB, JS heap ${start.heapUsedMb.toFixed(1)} MB (after GC)\n`);
    for (let round = 1; round <= rounds; round++) {
      await pgbenchTps(p, 6, ['-M', 'extended']);
      await pgbenchTps(p, 5, ['-C']);
      await connectLatencies(p, 200);
      await copyOut(p, bulkQuery(rows), 1);
      await copyIn(p, bulkFile, 1);
      await idleSessionMemory(p, 500);
      const m = await bench.proxyMemoryAfterGc();
      process.stdout.write(`round ${round}:  RSS ${m.rssMb.toFixed(1)} MB, JS heap ${m.heapUsedMb.toFixed(1)} MB (after GC)\n`);
    }
    return 0;
  } finally {
    await bench.stop();
    await rm(work, { recursive: true, force: true });
  }
}

runScript('memory-repeat', main);
