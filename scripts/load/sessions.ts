/**
 * Client sessions held open through the proxy, each running queries in a loop: node-postgres, as a BI tool or an
 * application would. Every query carries a token only its session knows (`select $1::text`) and the answer must be
 * that token — a wrong answer counts as an error, as does any failed connect or query.
 */
import pg from 'pg';
import { runPool } from './pool.js';

export interface SessionLoadOptions {
  readonly port: number;
  /** Sessions open at once. */
  readonly sessions: number;
  /** How long the sessions run queries, ms (after all have connected). */
  readonly durationMs: number;
  /** Distinct user names the sessions spread over (one credential each, shared by the proxy's cache). */
  readonly users: number;
  /** Connections opened at once while ramping up (a burst of all of them is a different test). */
  readonly connectConcurrency?: number;
  /** Reconnect after this many queries (connection churn, where leaks live); never when absent. */
  readonly reconnectEvery?: number;
  /** Pause between a session's queries, ms (0: back to back). */
  readonly thinkMs?: number;
  /** Called every second with the running totals. */
  readonly onProgress?: (stats: LoadStats) => void;
}

export interface LoadStats {
  connected: number;
  /** Sessions open right now. */
  open: number;
  /** Most sessions open at the same moment. */
  peakOpen: number;
  queries: number;
  reconnects: number;
  /** Every failure counted; the first ones described in `errors`. */
  errorCount: number;
  readonly errors: string[];
  /** Query round trips, ms (a sample: at most 100,000). */
  readonly latencies: number[];
  connectMs: number;
}

const MAX_ERRORS_KEPT = 50;
const MAX_LATENCIES_KEPT = 100_000;

export async function runSessionLoad(o: SessionLoadOptions): Promise<LoadStats> {
  const stats: LoadStats = { connected: 0, open: 0, peakOpen: 0, queries: 0, reconnects: 0, errorCount: 0, errors: [],
    latencies: [], connectMs: 0 };
  const fail = (what: string, err: unknown): void => {
    stats.errorCount++;
    if (stats.errors.length < MAX_ERRORS_KEPT) stats.errors.push(`${what}: ${err instanceof Error ? err.message : String(err)}`);
  };
  const connect = async (i: number): Promise<pg.Client | undefined> => {
    const c = new pg.Client({ host: '127.0.0.1', port: o.port, user: `load${i % o.users}`, database: 'dev' });
    c.on('error', (err) => fail(`session ${i}`, err));
    try {
      await c.connect();
      stats.connected++;
      stats.open++;
      stats.peakOpen = Math.max(stats.peakOpen, stats.open);
      return c;
    } catch (err) {
      fail(`session ${i} connect`, err);
      return undefined;
    }
  };
  const close = async (c: pg.Client): Promise<void> => {
    stats.open--;
    await c.end().catch((err: unknown) => fail('end', err));
  };

  // Ramp up: every session connected before the clock starts.
  const rampStarted = Date.now();
  const clients: Array<pg.Client | undefined> = new Array(o.sessions);
  await runPool(Array.from({ length: o.sessions }, (_, i) => i), o.connectConcurrency ?? 100, async (i) => {
    clients[i] = await connect(i);
  });
  stats.connectMs = Date.now() - rampStarted;

  const progress = o.onProgress ? setInterval(() => o.onProgress?.(stats), 1_000) : undefined;
  const deadline = Date.now() + o.durationMs;
  try {
    await Promise.all(clients.map(async (first, i) => {
      let c = first;
      let sinceConnect = 0;
      for (let n = 0; c && Date.now() < deadline; n++) {
        const token = `s${i}-q${n}-${Math.random().toString(36).slice(2)}`;
        const started = performance.now();
        try {
          const r = await c.query<{ t: string }>('select $1::text as t', [token]);
          if (r.rows[0]?.t !== token) fail(`session ${i}`, new Error(`sent ${token}, got ${JSON.stringify(r.rows)}`));
        } catch (err) {
          fail(`session ${i} query`, err);
          await close(c);
          return;
        }
        stats.queries++;
        if (stats.latencies.length < MAX_LATENCIES_KEPT) stats.latencies.push(performance.now() - started);
        if (o.thinkMs) await new Promise((r) => setTimeout(r, Math.random() * 2 * (o.thinkMs ?? 0)));
        if (o.reconnectEvery && ++sinceConnect >= o.reconnectEvery) {
          sinceConnect = 0;
          await close(c);
          c = await connect(i);
          stats.reconnects++;
        }
      }
      if (c) await close(c);
    }));
  } finally {
    clearInterval(progress);
  }
  return stats;
}

export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}
