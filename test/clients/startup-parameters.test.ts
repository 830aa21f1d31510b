/**
 * The startup parameters tools send, through the proxy: passed to the server (and visible with current_setting),
 * reported back in ParameterStatus as the server set them (pgjdbc refuses a connection whose client_encoding or
 * DateStyle report is not what it asked for), the database honoured, replication refused with a clear error.
 * One startup packet is built by hand here, independently of the proxy's code; libpq's environment variables
 * cover what psql, pgbench and every libpq-based tool send. Each client file checks its own library's parameters.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import net from 'node:net';
import { OTHER_DATABASE, requireInstalled, runProgram, startClientStack, waitFor } from './harness.js';
import type { Stack } from '../support/stack.js';

let stack: Stack;

beforeAll(async () => {
  requireInstalled('psql', 'postgresql-client');
  stack = await startClientStack();
});

afterAll(async () => {
  await stack?.stop();
});

/** Protocol 3.0 StartupMessage: length, version 196608, then name/value pairs each NUL-terminated, then a NUL. */
function startupMessage(params: Readonly<Record<string, string>>): Buffer {
  const body = Buffer.concat([...Object.entries(params).flatMap(([k, v]) => [Buffer.from(`${k}\0${v}\0`, 'utf8')]), Buffer.of(0)]);
  const head = Buffer.alloc(8);
  head.writeInt32BE(8 + body.length, 0);
  head.writeInt32BE(196608, 4);
  return Buffer.concat([head, body]);
}

/** A simple Query ('Q'): type byte, length (counting itself), the SQL NUL-terminated. */
function query(sql: string): Buffer {
  const text = Buffer.from(`${sql}\0`, 'utf8');
  const head = Buffer.alloc(5);
  head.write('Q', 0, 'latin1');
  head.writeInt32BE(4 + text.length, 1);
  return Buffer.concat([head, text]);
}

/** Terminate ('X'): no body. */
const TERMINATE = Buffer.from([0x58, 0, 0, 0, 4]);

interface Conversation {
  /** ParameterStatus values reported during login. */
  readonly reported: Map<string, string>;
  /** Columns of the DataRows, as text (latin1, so any client_encoding's bytes survive). */
  readonly rows: Array<Array<string | null>>;
  /** Fields of the first ErrorResponse, keyed by their field code. */
  readonly error?: Record<string, string>;
  /** The socket, still open when the query was answered (the caller ends it). */
  readonly socket: net.Socket;
  /** Resolves when the proxy closes the connection. */
  readonly closed: Promise<void>;
}

/**
 * Logs in with a hand-built startup packet and runs one query; resolves at the ReadyForQuery that answers it, or
 * when the proxy closes the connection (a refused login).
 */
function converse(params: Readonly<Record<string, string>>, sql: string): Promise<Conversation> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port: stack.port });
    const closed = new Promise<void>((r) => socket.once('close', () => r()));
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error('no answer within 15 s'));
    }, 15_000);
    let data = Buffer.alloc(0);
    const reported = new Map<string, string>();
    const rows: Array<Array<string | null>> = [];
    let error: Record<string, string> | undefined;
    let readyCount = 0;
    const done = (): void => {
      clearTimeout(timer);
      resolve({ reported, rows, socket, closed, ...(error ? { error } : {}) });
    };
    socket.on('error', reject);
    socket.on('data', (chunk: Buffer) => {
      data = Buffer.concat([data, chunk]);
      // Typed frames: a type byte, then a length that counts itself but not the type byte.
      while (data.length >= 5 && data.length >= 1 + data.readInt32BE(1)) {
        const type = String.fromCharCode(data[0] as number);
        const body = data.subarray(5, 1 + data.readInt32BE(1));
        data = data.subarray(1 + data.readInt32BE(1));
        if (type === 'S') {
          const [name = '', value = ''] = body.toString('utf8').split('\0');
          reported.set(name, value);
        } else if (type === 'D') {
          const row: Array<string | null> = [];
          let at = 2;
          for (let i = 0; i < body.readInt16BE(0); i++) {
            const len = body.readInt32BE(at);
            row.push(len < 0 ? null : body.toString('latin1', at + 4, at + 4 + len));
            at += 4 + Math.max(len, 0);
          }
          rows.push(row);
        } else if (type === 'E') {
          const fields: Record<string, string> = {};
          for (const f of body.toString('utf8').split('\0').filter((x) => x.length > 0)) fields[f[0] as string] = f.slice(1);
          error ??= fields;
        } else if (type === 'Z' && ++readyCount === 1) {
          socket.write(query(sql));
        } else if (type === 'Z') {
          done();
        }
      }
    });
    void closed.then(done);
    socket.write(startupMessage(params));
  });
}

/** Ends a conversation as a client library does: Terminate, then close our side. */
async function hangUp(c: Conversation): Promise<void> {
  c.socket.end(TERMINATE);
  await c.closed;
}

describe('startup parameters through the proxy', () => {
  it('a hand-built startup packet: every parameter reaches the server and is reported back in ParameterStatus', async () => {
    const c = await converse({
      user: 'raw_params',
      database: OTHER_DATABASE,
      application_name: 'Power BI Desktop',
      client_encoding: 'LATIN1',
      DateStyle: 'German, DMY',
      extra_float_digits: '2',
      TimeZone: 'America/Sao_Paulo',
      IntervalStyle: 'iso_8601',
      // Backslash-escaped spaces inside one -c value, as libpq documents for PGOPTIONS.
      options: '-c search_path=pg_catalog -c statement_timeout=9876 --work_mem=16MB -c application_name=ignored\\ by\\ order',
    }, "select current_database(), current_setting('extra_float_digits'), current_setting('search_path'), " +
      "current_setting('statement_timeout'), current_setting('work_mem'), chr(233), 1.5::float8");
    await hangUp(c);
    expect(c.error).toBeUndefined();
    // chr(233) arrives as the single LATIN1 byte 0xE9.
    expect(c.rows).toEqual([[OTHER_DATABASE, '2', 'pg_catalog', '9876ms', '16MB', '\u00e9', '1.5']]);
    expect(Object.fromEntries(c.reported)).toMatchObject({
      // The startup packet's application_name wins over the one in options: options are applied first.
      application_name: 'Power BI Desktop',
      client_encoding: 'LATIN1',
      DateStyle: 'German, DMY',
      TimeZone: 'America/Sao_Paulo',
      IntervalStyle: 'iso_8601',
      server_encoding: 'UTF8',
      integer_datetimes: 'on',
      standard_conforming_strings: 'on',
    });
    expect(c.reported.get('server_version')).toMatch(/^\d+/);
  });

  it('libpq\'s environment (PGAPPNAME, PGCLIENTENCODING, PGDATESTYLE, PGTZ, PGOPTIONS, PGDATABASE), as psql sends it', async () => {
    const r = await runProgram('psql', ['-X', '-A', '-t', '-F', '|', '-c',
      "select current_database(), current_setting('application_name'), current_setting('client_encoding'), " +
      // chr(233) rather than a literal: the statement text itself must be valid LATIN1.
      "current_setting('DateStyle'), current_setting('TimeZone'), current_setting('search_path'), chr(233)"], {
      env: {
        PGHOST: '127.0.0.1', PGPORT: String(stack.port), PGUSER: 'libpq_env', PGDATABASE: OTHER_DATABASE,
        PGAPPNAME: 'dbt', PGCLIENTENCODING: 'LATIN1', PGDATESTYLE: 'SQL, DMY', PGTZ: 'Europe/Paris',
        PGOPTIONS: '-c search_path=pg_catalog,public', PGCONNECT_TIMEOUT: '15',
      },
      timeoutMs: 30_000,
    });
    expect(r.stderr).toBe('');
    // The result comes back in LATIN1 ('é' is the single byte 0xE9): converted by the server, relayed as is.
    expect(r.stdoutBytes.toString('latin1').trim())
      .toBe(`${OTHER_DATABASE}|dbt|LATIN1|SQL, DMY|Europe/Paris|pg_catalog,public|\u00e9`);
    expect(r.stdoutBytes.includes(Buffer.from('\u00e9', 'utf8'))).toBe(false);
  });

  it.each(['database', 'true', 'on', '1', 'yes'])('replication=%s is refused with 0A000 before any credential is requested', async (value) => {
    const before = stack.emulator.callLog.length;
    const c = await converse({ user: `repl_${value}`, database: 'dev', replication: value }, 'select 1');
    expect(c.error).toMatchObject({ S: 'FATAL', C: '0A000' });
    expect(c.error?.M).toMatch(/replication connections are not supported/);
    expect(c.error?.H).toMatch(/connect without the replication parameter/);
    expect(c.rows).toEqual([]);
    expect(stack.emulator.callLog.slice(before).filter((call) => call.params.DbUser === `repl_${value}`)).toEqual([]);
  });

  it.each(['false', 'off', '0'])('replication=%s is an ordinary session', async (value) => {
    const c = await converse({ user: 'repl_off', database: 'dev', replication: value }, 'select current_user');
    await hangUp(c);
    expect(c.error).toBeUndefined();
    expect(c.rows).toEqual([['IAMA:repl_off']]);
  });
});

describe('ending a session through the proxy', () => {
  it('Terminate: the connection is closed, as PostgreSQL closes it, for a client that waits for the close', async () => {
    const c = await converse({ user: 'raw_terminate', database: 'dev' }, 'select 1');
    expect(c.rows).toEqual([['1']]);
    // Send Terminate but keep our side open, as a client that waits for EOF before releasing its socket does.
    c.socket.write(TERMINATE);
    const outcome = await Promise.race([
      c.closed.then(() => 'closed'),
      new Promise<string>((r) => setTimeout(() => r('still open after 3 s'), 3_000)),
    ]);
    c.socket.destroy();
    expect(outcome).toBe('closed');
  });
});

/**
 * A warm spare (`--warm`) logged in before the client arrived. Whatever the proxy does instead must look like a fresh login: explicit parameters win
 * over `options` (PostgreSQL applies `options` first), and they stay the session's defaults, so `RESET ALL`
 * (which connection pools run between borrowers) returns to them rather than to the server's defaults.
 */
describe.each([
  { mode: 'a fresh login per client', warm: 0 },
  { mode: '--warm 1 (a spare logged in beforehand)', warm: 1 },
])('startup parameters with $mode', ({ warm }) => {
  const settings = "select current_setting('application_name'), current_setting('search_path'), " +
    "current_setting('statement_timeout'), current_setting('DateStyle'), current_setting('client_encoding'), chr(233)";
  /** What a direct PostgreSQL login with the environment below gives, before and after RESET ALL. */
  const expected = 'dashboards|pg_catalog|4321ms|SQL, DMY|LATIN1|\u00e9';

  it('psql sees its startup settings, before and after RESET ALL, on every connection', async () => {
    const proxy = await stack.startProxy({}, { warm });
    const port = proxy.addresses[0]?.port as number;
    const user = `warm_${warm}`;
    /** psql's output lines: its backend pid, its settings, RESET, its settings again. */
    const run = (): Promise<string[]> => runProgram('psql', ['-X', '-A', '-t', '-F', '|', '-c', 'select pg_backend_pid()',
      '-c', settings, '-c', 'reset all', '-c', settings], {
      env: {
        PGHOST: '127.0.0.1', PGPORT: String(port), PGUSER: user, PGDATABASE: 'dev', PGAPPNAME: 'dashboards',
        PGCLIENTENCODING: 'LATIN1', PGDATESTYLE: 'SQL, DMY', PGCONNECT_TIMEOUT: '15',
        PGOPTIONS: '-c search_path=pg_catalog -c statement_timeout=4321 -c application_name=overridden',
      },
      timeoutMs: 30_000,
    }).then((r) => {
      expect(r.stderr).toBe('');
      return r.stdoutBytes.toString('latin1').trim().split('\n');
    });
    const sessionsOf = async (): Promise<number[]> => (await stack.bed.superuserQuery<{ pid: number }>(
      'select pid from pg_stat_activity where usename = $1', [`IAMA:${user}`], 'postgres')).map((r) => r.pid);

    const first = await run();
    expect(first.slice(1), 'first connection').toEqual([expected, 'RESET', expected]);
    if (warm === 0) {
      expect((await run()).slice(1), 'second connection').toEqual([expected, 'RESET', expected]);
      return;
    }
    // With --warm the first connection had a spare opened with its parameters; wait for it (a session that is not
    // the first client's), then check the second connection is that very session and looks like a fresh login.
    let spare: number | undefined;
    await waitFor(async () => {
      spare = (await sessionsOf()).find((pid) => String(pid) !== first[0]);
      return spare !== undefined;
    }, 'a warm spare to be logged in');
    const second = await run();
    expect(second[0], 'the second connection is the warm spare').toBe(String(spare));
    expect(second.slice(1), 'second connection').toEqual([expected, 'RESET', expected]);
  });
});
