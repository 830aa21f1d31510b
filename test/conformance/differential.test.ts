/**
 * The differential conformance test (issue 21): the same client byte sequences go straight to PostgreSQL (the test
 * bed, over its trust socket) and through the proxy (whose upstream is that same server), and the answers are
 * compared message by message — types, severities, SQLSTATEs, transaction status, whether and when the connection
 * closes. Where the proxy differs on purpose the case names the difference from deliberate-differences.ts and
 * states the proxy's answer; docs/ARCHITECTURE.md lists the same table. node-postgres and postgres.js run through
 * the cases they can express.
 */
import { readFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import postgres from 'postgres';
import { startStack } from '../support/stack.js';
import type { Stack } from '../support/stack.js';
import { CASES, USER } from './cases.js';
import { DELIBERATE_DIFFERENCES, difference } from './deliberate-differences.js';
import { runSteps } from './wire-session.js';
import type { Killer, StepResult } from './wire-session.js';

let stack: Stack;
let killer: Killer;

beforeAll(async () => {
  stack = await startStack();
  await stack.bed.superuserQuery(`create role ${USER} login`);
  killer = {
    async kill(pid, when) {
      const deadline = Date.now() + 10_000;
      while (when === 'sleeping') {
        const rows = await stack.bed.superuserQuery<{ n: string }>(
          "select count(*) as n from pg_stat_activity where pid = $1 and wait_event = 'PgSleep'", [pid]);
        if (Number(rows[0]?.n) > 0) break;
        if (Date.now() > deadline) throw new Error(`backend ${pid} never slept`);
        await new Promise((r) => setTimeout(r, 20));
      }
      await stack.bed.superuserQuery('select pg_terminate_backend($1)', [pid]);
      while (Number((await stack.bed.superuserQuery<{ n: string }>('select count(*) as n from pg_stat_activity where pid = $1', [pid]))[0]?.n) > 0) {
        if (Date.now() > deadline) throw new Error(`backend ${pid} did not end`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
  };
});

afterAll(async () => {
  await stack?.stop();
});

const direct = (): net.Socket => net.connect({ path: path.join(stack.bed.socketDir, `.s.PGSQL.${stack.bed.port}`) });
const proxied = (): net.Socket => net.connect({ host: '127.0.0.1', port: stack.port });

function healCount(): number {
  return stack.logs.lines.filter((l) => l.includes('session healed')).length;
}

/** Resolves once the proxy has logged `count` heals in total. */
async function healsLogged(count: number): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (healCount() < count) {
    if (Date.now() > deadline) throw new Error(`expected ${count} heals`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Runs of ParameterStatus compare as one entry: their number and values are the session's (session-parameters). */
function comparable(results: readonly StepResult[]): StepResult[] {
  return results.map((r) => ({ closed: r.closed, messages: r.messages.reduce<string[]>((out, m) => {
    const s = m === 'S' ? 'S*' : m;
    if (s !== 'S*' || out[out.length - 1] !== 'S*') out.push(s);
    return out;
  }, []) }));
}

describe('differential conformance: straight to PostgreSQL and through the proxy', () => {
  for (const c of CASES) {
    it(c.name, async () => {
      const server = comparable(await runSteps(direct, c.steps, killer));
      const heals = healCount();
      const proxy = comparable(await runSteps(proxied, c.steps, { ...killer, settled: () => healsLogged(heals + 1) }));
      if (c.differs) {
        difference(c.differs.id);
        expect(proxy).toEqual(c.differs.proxy);
        // The difference is real: the server answers otherwise.
        expect(server).not.toEqual(c.differs.proxy);
      } else {
        expect(proxy).toEqual(server);
      }
    });
  }

  it('docs/ARCHITECTURE.md lists every deliberate difference', () => {
    const doc = readFileSync(path.join(import.meta.dirname, '../../docs/ARCHITECTURE.md'), 'utf8');
    for (const d of DELIBERATE_DIFFERENCES) expect(doc).toContain(`\`${d.id}\``);
  });
});

/** What a client library makes of an outcome: the SQLSTATE it raised, or 'ok'. */
async function outcome(run: () => Promise<unknown>): Promise<string> {
  try {
    await run();
    return 'ok';
  } catch (err) {
    return String((err as { code?: unknown }).code ?? (err as Error).message);
  }
}

describe('client libraries through the same cases', () => {
  const pgConfig = (where: 'direct' | 'proxy'): pg.ClientConfig => (where === 'direct'
    ? { host: stack.bed.socketDir, port: stack.bed.port, user: USER, database: 'dev' }
    : { host: '127.0.0.1', port: stack.port, user: USER, database: 'dev' });

  it('node-postgres: errors mid-pipeline, in a transaction, and connect() then end()', async () => {
    const run = async (where: 'direct' | 'proxy'): Promise<string[]> => {
      const c = new pg.Client(pgConfig(where));
      const events: string[] = [];
      c.on('error', (e) => events.push(`event ${String((e as { code?: unknown }).code)}`));
      await c.connect();
      const got = await Promise.all([outcome(() => c.query('select 1/0')), outcome(() => c.query('select 1')),
        outcome(() => c.query({ text: 'select $1::int', values: ['x'] }))]);
      got.push(await outcome(() => c.query('begin')), await outcome(() => c.query('select 1/0')),
        await outcome(() => c.query('select 1')), await outcome(() => c.query('rollback')));
      await c.end();
      const quick = new pg.Client(pgConfig(where));
      quick.on('error', (e) => events.push(`quick event ${String((e as { code?: unknown }).code)}`));
      quick.connect().catch((e: unknown) => events.push(`quick connect ${String((e as { code?: unknown }).code)}`));
      await quick.end();
      return [...got, ...events];
    };
    const server = await run('direct');
    expect(server).toEqual(['22012', 'ok', '22P02', 'ok', '22012', '25P02', 'ok']);
    expect(await run('proxy')).toEqual(server);
  });

  it('postgres.js: a pipelined error and a transaction error', async () => {
    const run = async (where: 'direct' | 'proxy'): Promise<string[]> => {
      const sql = where === 'direct'
        ? postgres({ host: stack.bed.socketDir, port: stack.bed.port, user: USER, database: 'dev', max: 1 })
        : postgres({ host: '127.0.0.1', port: stack.port, user: USER, database: 'dev', max: 1 });
      try {
        const got = await Promise.all([outcome(() => sql`select 1/0`), outcome(() => sql`select 1`)]);
        got.push(await outcome(() => sql.begin(async (tx) => {
          await tx`select 1/0`;
        })));
        return got;
      } finally {
        await sql.end();
      }
    };
    const server = await run('direct');
    expect(server).toEqual(['22012', 'ok', '22012']);
    expect(await run('proxy')).toEqual(server);
  });
});
