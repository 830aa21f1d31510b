/**
 * The CPU cost of session tracking (issue 6) on the hot path, without the noise of a whole-machine benchmark: feeds
 * the tracker and the server-side frame watcher the exact bytes of one `pgbench -S -M extended` transaction
 * (Parse/Bind/Describe/Execute/Sync and its answers) many times, and prints microseconds per transaction with
 * tracking on and with only the boundary watch that `--no-heal` keeps.
 *   node dist/scripts/bench/tracking-cost.js [transactions]
 */
import { FrameBoundary } from '../../src/proxy/frame-boundary.js';
import { SessionTracker } from '../../src/healing/session-tracker.js';

function frame(type: string, body: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeInt32BE(body.length + 4, 0);
  return Buffer.concat([Buffer.from(type), len, body]);
}

const sql = 'SELECT abalance FROM pgbench_accounts WHERE aid = $1;';
const transaction = Buffer.concat([
  frame('P', Buffer.concat([Buffer.from(`\0${sql}\0`), Buffer.from([0, 0])])),
  frame('B', Buffer.from('\0\0\0\0\0\x01\0\0\0\x0512345\0\0', 'latin1')),
  frame('D', Buffer.from('P\0')), frame('E', Buffer.from('\0\0\0\0\0')), frame('S', Buffer.alloc(0)),
]);
const answers = Buffer.concat([frame('1', Buffer.alloc(0)), frame('2', Buffer.alloc(0)), frame('T', Buffer.alloc(30)),
  frame('D', Buffer.alloc(12)), frame('C', Buffer.from('SELECT 1\0')), frame('Z', Buffer.from('I'))]);

function time(n: number, step: () => void): number {
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) step();
  return Number(process.hrtime.bigint() - t0) / n / 1000;
}

const n = Number(process.argv[2] ?? 500_000);
const tracker = new SessionTracker();
const tracked = new FrameBoundary((s) => tracker.readyForQuery(s));
const bare = new FrameBoundary();
const on = (): void => {
  tracker.fromClient.observe(transaction);
  tracked.observe(answers);
};
const off = (): void => {
  bare.observe(answers);
};
time(n / 5, on); // warm up the JIT
time(n / 5, off);
const usOn = time(n, on);
const usOff = time(n, off);
process.stdout.write(`tracking on: ${usOn.toFixed(2)} µs per transaction\nboundary only (--no-heal): ${usOff.toFixed(2)} µs per transaction\n` +
  `tracking_cost_us_per_transaction=${(usOn - usOff).toFixed(2)}\n`);
