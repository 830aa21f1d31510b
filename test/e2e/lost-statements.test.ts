/**
 * One error per lost statement (issue 21), in every protocol path: the server's backend is terminated while a
 * statement runs, and the client hears exactly one thing per statement it is owed — the proxy's own ERROR 08006
 * with ReadyForQuery for each Sync/Query, the rest of an open extended batch skipped up to its Sync as the server
 * would — and then the session goes on. With --no-heal, the server's FATAL alone, and the connection closes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pgClient } from '../support/clients.js';
import { startStack } from '../support/stack.js';
import type { Stack } from '../support/stack.js';
import { RawConnection } from '../security/raw-connection.js';
import { cstr, errorsIn, int16, int32, query, scanBackend, startupMessage, SYNC, typed } from '../security/wire.js';
import type { BackendMessage } from '../security/wire.js';

let stack: Stack;

beforeAll(async () => {
  stack = await startStack();
  await stack.bed.superuserQuery('create table if not exists public.lost_copy(v int)');
  await stack.bed.superuserQuery('grant all on public.lost_copy to public');
});

afterAll(async () => {
  await stack?.stop();
});

const FLUSH = typed('H');

function parse(sql: string, name = ''): Buffer {
  return typed('P', Buffer.concat([cstr(name), cstr(sql), int16(0)]));
}

/** Bind with text parameters. */
function bind(statement: string, params: readonly string[] = [], portal = ''): Buffer {
  const values = params.map((p) => Buffer.concat([int32(Buffer.byteLength(p)), Buffer.from(p)]));
  return typed('B', Buffer.concat([cstr(portal), cstr(statement), int16(0), int16(params.length), ...values, int16(0)]));
}

function execute(portal = '', maxRows = 0): Buffer {
  return typed('E', Buffer.concat([cstr(portal), int32(maxRows)]));
}

/** FunctionCall: the function by its OID, one text argument, a text result. */
function functionCall(oid: number, arg: string): Buffer {
  return typed('F', Buffer.concat([int32(oid), int16(0), int16(1), int32(arg.length), Buffer.from(arg), int16(0)]));
}

const SLEEP = 'select pg_sleep(30)';

/** A logged-in raw connection through the proxy, and its upstream backend's pid. */
async function session(port: number, user: string): Promise<{ conn: RawConnection; pid: number; mark: () => number }> {
  const conn = await RawConnection.open(port);
  conn.write(startupMessage([['user', user], ['database', 'dev']]));
  await conn.waitFor((d) => countOf(d, 'Z') >= 1, 10_000);
  conn.write(query('select pg_backend_pid()'));
  await conn.waitFor((d) => countOf(d, 'Z') >= 2, 10_000);
  const row = scanBackend(conn.data).messages.find((m) => m.type === 'D') as BackendMessage;
  const pid = Number(row.body.toString('utf8', 6, 6 + row.body.readInt32BE(2)));
  // Where the next answer starts.
  const mark = (): number => conn.data.length;
  return { conn, pid, mark };
}

function countOf(data: Buffer, type: string): number {
  return scanBackend(data).messages.filter((m) => m.type === type).length;
}

/** Waits until the backend runs pg_sleep, then terminates it as an administrator would. */
async function killWhenSleeping(pid: number): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const rows = await stack.bed.superuserQuery<{ n: string }>(
      "select count(*) as n from pg_stat_activity where pid = $1 and wait_event = 'PgSleep'", [pid]);
    if (Number(rows[0]?.n) > 0) break;
    if (Date.now() > deadline) throw new Error(`backend ${pid} never slept`);
    await new Promise((r) => setTimeout(r, 20));
  }
  await stack.bed.superuserQuery('select pg_terminate_backend($1)', [pid]);
}

/** The messages received after `from`, once `test` holds on them (or the connection closed). */
async function answer(conn: RawConnection, from: number, test: (m: readonly BackendMessage[]) => boolean): Promise<BackendMessage[]> {
  const ok = await conn.waitFor((d) => test(scanBackend(d.subarray(from)).messages), 20_000);
  const messages = [...scanBackend(conn.data.subarray(from)).messages];
  if (!ok) throw new Error(`no answer: got ${messages.map((m) => m.type).join('')}, closed=${conn.closed}`);
  return messages;
}

const zs = (n: number) => (m: readonly BackendMessage[]): boolean => m.filter((x) => x.type === 'Z').length >= n;

/** Exactly the errors in `messages`: SQLSTATE by severity. */
function errorsOf(messages: readonly BackendMessage[]): string[] {
  return errorsIn({ answers: '', messages, incomplete: 0 }).map((e) => `${e.V ?? e.S} ${e.C}`);
}

function statuses(messages: readonly BackendMessage[]): string {
  return messages.filter((m) => m.type === 'Z').map((m) => String.fromCharCode(m.body[0] as number)).join('');
}

/** The session still answers (on its new upstream connection). */
async function stillWorks(conn: RawConnection, mark: () => number): Promise<void> {
  const from = mark();
  conn.write(query('select 41 + 1'));
  const m = await answer(conn, from, zs(1));
  expect(m.map((x) => x.type).join('')).toBe('TDCZ');
  expect(conn.closed).toBe(false);
}

describe('a statement lost when its backend is terminated gets exactly one error, and the session goes on', () => {
  it('simple query', async () => {
    const { conn, pid, mark } = await session(stack.port, 'lost_simple');
    const from = mark();
    conn.write(query(SLEEP));
    await killWhenSleeping(pid);
    const m = await answer(conn, from, zs(1));
    expect(errorsOf(m)).toEqual(['ERROR 08006']);
    expect(statuses(m)).toBe('I');
    await stillWorks(conn, mark);
    conn.destroy();
  });

  it('extended protocol, named statement; the statement is still prepared afterwards', async () => {
    const { conn, pid, mark } = await session(stack.port, 'lost_named');
    const from = mark();
    conn.write(Buffer.concat([parse('select pg_sleep($1::float8)', 'sleeper'), bind('sleeper', ['30']), execute(), SYNC]));
    await killWhenSleeping(pid);
    const m = await answer(conn, from, zs(1));
    expect(errorsOf(m)).toEqual(['ERROR 08006']);
    expect(statuses(m)).toBe('I');
    const again = mark();
    conn.write(Buffer.concat([bind('sleeper', ['0']), execute(), SYNC]));
    const r = await answer(conn, again, zs(1));
    expect(errorsOf(r)).toEqual([]);
    expect(r.map((x) => x.type).join('')).toBe('2DCZ');
    await stillWorks(conn, mark);
    conn.destroy();
  });

  it('a pipelined batch with one Sync: one error, one ReadyForQuery', async () => {
    const { conn, pid, mark } = await session(stack.port, 'lost_batch');
    const from = mark();
    conn.write(Buffer.concat([parse(SLEEP), bind(''), execute(), parse('select 1'), bind(''), execute(), SYNC]));
    await killWhenSleeping(pid);
    const m = await answer(conn, from, zs(1));
    expect(errorsOf(m)).toEqual(['ERROR 08006']);
    expect(statuses(m)).toBe('I');
    await stillWorks(conn, mark);
    conn.destroy();
  });

  it('a pipeline of two Syncs: one error and one ReadyForQuery for each', async () => {
    const { conn, pid, mark } = await session(stack.port, 'lost_pipeline');
    const from = mark();
    conn.write(Buffer.concat([parse(SLEEP), bind(''), execute(), SYNC, parse('select 1'), bind(''), execute(), SYNC]));
    await killWhenSleeping(pid);
    const m = await answer(conn, from, zs(2));
    expect(errorsOf(m)).toEqual(['ERROR 08006', 'ERROR 08006']);
    expect(statuses(m)).toBe('II');
    await stillWorks(conn, mark);
    conn.destroy();
  });

  it('a portal mid-fetch (Execute with a row limit, Flush): one error, then the client\'s Sync is answered', async () => {
    const { conn, pid, mark } = await session(stack.port, 'lost_portal');
    let from = mark();
    conn.write(Buffer.concat([parse('select g, pg_sleep(case when g > 2 then 30 else 0 end) from generate_series(1, 5) g'),
      bind('', [], 'cur'), execute('cur', 2), FLUSH]));
    await answer(conn, from, (m) => m.some((x) => x.type === 's'));
    from = mark();
    conn.write(Buffer.concat([execute('cur', 2), FLUSH]));
    await killWhenSleeping(pid);
    const m = await answer(conn, from, (x) => x.some((y) => y.type === 'E'));
    expect(errorsOf(m)).toEqual(['ERROR 08006']);
    expect(statuses(m)).toBe('');
    // The rest of the batch is skipped, as the server skips after an error; its Sync gets ReadyForQuery.
    from = mark();
    conn.write(Buffer.concat([execute('cur', 2), SYNC]));
    const z = await answer(conn, from, zs(1));
    expect(z.map((x) => x.type).join('')).toBe('Z');
    expect(statuses(z)).toBe('I');
    await stillWorks(conn, mark);
    conn.destroy();
  });

  it('COPY out', async () => {
    const { conn, pid, mark } = await session(stack.port, 'lost_copy_out');
    const from = mark();
    conn.write(query('copy (select g, pg_sleep(case when g = 2000 then 30 else 0 end) from generate_series(1, 3000) g) to stdout'));
    await killWhenSleeping(pid);
    const m = await answer(conn, from, zs(1));
    expect(errorsOf(m)).toEqual(['ERROR 08006']);
    expect(statuses(m)).toBe('I');
    await stillWorks(conn, mark);
    conn.destroy();
  });

  it('COPY in: the error, and the CopyData/CopyDone the client still sends are dropped as the server drops them', async () => {
    const { conn, pid, mark } = await session(stack.port, 'lost_copy_in');
    let from = mark();
    conn.write(query('copy public.lost_copy from stdin'));
    await answer(conn, from, (m) => m.some((x) => x.type === 'G'));
    from = mark();
    // A backend waiting for COPY data does not sleep: terminate it directly.
    await stack.bed.superuserQuery('select pg_terminate_backend($1)', [pid]);
    const m = await answer(conn, from, zs(1));
    expect(errorsOf(m)).toEqual(['ERROR 08006']);
    from = mark();
    conn.write(Buffer.concat([typed('d', Buffer.from('1\n')), typed('c')]));
    conn.write(query('select 41 + 1'));
    const r = await answer(conn, from, zs(1));
    expect(errorsOf(r)).toEqual([]);
    expect(r.map((x) => x.type).join('')).toBe('TDCZ');
    conn.destroy();
  });

  it('function call', async () => {
    const { conn, pid, mark } = await session(stack.port, 'lost_fcall');
    const from = mark();
    const [fn] = await stack.bed.superuserQuery<{ oid: number }>("select 'pg_sleep(float8)'::regprocedure::oid as oid");
    conn.write(functionCall(Number(fn?.oid), '30'));
    await killWhenSleeping(pid);
    const m = await answer(conn, from, zs(1));
    expect(errorsOf(m)).toEqual(['ERROR 08006']);
    expect(statuses(m)).toBe('I');
    await stillWorks(conn, mark);
    conn.destroy();
  });

  it('node-postgres, named prepared statement: one rejected query, no error event, and the client goes on', async () => {
    const c = pgClient(stack.port, 'lost_pg');
    const events: unknown[] = [];
    c.on('error', (e) => events.push(e));
    await c.connect();
    try {
      const pid = (await c.query('select pg_backend_pid() as pid')).rows[0].pid as number;
      const running = c.query({ name: 'sleepy', text: 'select pg_sleep($1)', values: [30] });
      // The handler is attached before the kill: under load the rejection can arrive while killWhenSleeping still
      // polls, and a rejection without a handler at that moment is reported as unhandled, failing the run.
      const rejected = expect(running).rejects.toMatchObject({ code: '08006', severity: 'ERROR' });
      await killWhenSleeping(pid);
      await rejected;
      expect((await c.query({ name: 'sleepy', text: 'select pg_sleep($1)', values: [0] })).rowCount).toBe(1);
      expect((await c.query('select 1 as one')).rows[0].one).toBe(1);
      expect(events).toEqual([]);
    } finally {
      await c.end();
    }
  });
});

describe('--no-heal: the server\'s FATAL, once, and the connection closes', () => {
  it('extended protocol, named statement', async () => {
    const p = await stack.startProxy({}, { heal: false });
    const { conn, pid, mark } = await session(p.addresses[0]?.port as number, 'lost_noheal');
    const from = mark();
    conn.write(Buffer.concat([parse('select pg_sleep($1::float8)', 'sleeper'), bind('sleeper', ['30']), execute(), SYNC]));
    await killWhenSleeping(pid);
    expect(await conn.waitClose(10_000)).toBe(true);
    const m = scanBackend(conn.data.subarray(from)).messages;
    expect(errorsOf(m)).toEqual(['FATAL 57P01']);
    expect(statuses(m)).toBe('');
  });
});
