/**
 * The CPU cost of session tracking on the hot path, without the noise of a whole-machine benchmark: feeds the
 * tracker the exact bytes of a transaction and its answers many times, and prints microseconds per transaction
 * with tracking on and with only the boundary watch that `--no-heal` keeps. Three workloads:
 *   extended — one `pgbench -S -M extended` transaction (Parse/Bind/Describe/Execute/Sync and its answers);
 *   simple   — one `pgbench -S` transaction (a simple Query: the tracker's no-lexing fast path);
 *   bi       — a 1 KB dashboard query with `;` inside a literal and a comment (the lexer runs).
 *   node dist/scripts/bench/tracking-cost.js [transactions]
 */
import { FrameScanner } from '../../src/protocol/frame-scanner.js';
import { SessionTracker } from '../../src/healing/session-tracker.js';

function frame(type: string, body: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeInt32BE(body.length + 4, 0);
  return Buffer.concat([Buffer.from(type), len, body]);
}

const sql = 'SELECT abalance FROM pgbench_accounts WHERE aid = $1;';
const rowAnswers = [frame('T', Buffer.alloc(30)), frame('D', Buffer.alloc(12)), frame('C', Buffer.from('SELECT 1\0'))];
const workloads: Record<string, { client: Buffer; server: Buffer }> = {
  extended: {
    client: Buffer.concat([
      frame('P', Buffer.concat([Buffer.from(`\0${sql}\0`), Buffer.from([0, 0])])),
      frame('B', Buffer.from('\0\0\0\0\0\x01\0\0\0\x0512345\0\0', 'latin1')),
      frame('D', Buffer.from('P\0')), frame('E', Buffer.from('\0\0\0\0\0')), frame('S', Buffer.alloc(0)),
    ]),
    server: Buffer.concat([frame('1', Buffer.alloc(0)), frame('2', Buffer.alloc(0)), ...rowAnswers, frame('Z', Buffer.from('I'))]),
  },
  simple: {
    client: frame('Q', Buffer.from('SELECT abalance FROM pgbench_accounts WHERE aid = 12345;\0')),
    server: Buffer.concat([...rowAnswers, frame('Z', Buffer.from('I'))]),
  },
  bi: {
    client: frame('Q', Buffer.from(`/* dashboard 7, tile 3 */ SELECT region, count(*) AS n, sum(amount) AS total
      FROM sales s JOIN regions r ON r.id = s.region_id
      WHERE s.note NOT LIKE '%; DROP%' AND s.day >= '2026-01-01' AND r.name IN ('North; East', 'South', 'West')
      ${"AND s.channel <> 'x' ".repeat(30)}
      GROUP BY region ORDER BY total DESC;\0`)),
    server: Buffer.concat([...rowAnswers, frame('Z', Buffer.from('I'))]),
  },
};

function time(n: number, step: () => void): number {
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) step();
  return Number(process.hrtime.bigint() - t0) / n / 1000;
}

const n = Number(process.argv[2] ?? 500_000);
for (const [name, { client, server }] of Object.entries(workloads)) {
  const tracker = new SessionTracker();
  // As the relay walks: the server's bytes once (tracking's scanner is the relay's walker), the client's once.
  const bare = new FrameScanner({}, () => undefined);
  const on = (): void => {
    tracker.fromClient.observe(client);
    tracker.fromServer.observe(server);
  };
  const off = (): void => {
    bare.observe(server);
  };
  const rounds = name === 'bi' ? n / 10 : n;
  time(rounds / 5, on); // warm up the JIT
  time(rounds / 5, off);
  const usOn = time(rounds, on);
  const usOff = time(rounds, off);
  if (tracker.unhealable) throw new Error(`the ${name} workload made the session non-healable: ${tracker.unhealable}`);
  process.stdout.write(`${name}: tracking on ${usOn.toFixed(2)} µs, boundary only (--no-heal) ${usOff.toFixed(2)} µs per transaction\n` +
    `tracking_cost_us_per_transaction{workload="${name}"}=${(usOn - usOff).toFixed(2)}\n`);
}
