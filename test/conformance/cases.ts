/**
 * The client byte sequences the differential test sends both straight to PostgreSQL and through the proxy. A case
 * with `loggedIn` starts after a completed login (its first step is the StartupMessage, compared too). A case that
 * names a deliberate difference states what the proxy answers instead (`proxy`), per step.
 */
import { cstr, int16, int32, query, startupMessage, SYNC, TERMINATE, typed } from '../security/wire.js';
import type { StepResult, Step } from './wire-session.js';

export interface ConformanceCase {
  readonly name: string;
  readonly steps: readonly Step[];
  /** The deliberate difference (deliberate-differences.ts) this case shows, and the proxy's answer per step. */
  readonly differs?: { readonly id: string; readonly proxy: readonly StepResult[] };
}

export const USER = 'conformance';

function startup(params: ReadonlyArray<readonly [string, string]>, version?: number): Buffer {
  return startupMessage(params, version);
}

const LOGIN: Step = { send: startup([['user', USER], ['database', 'dev']]), until: 'ready' };
const PID: Step = { send: query('select pg_backend_pid()'), until: 'ready' };
const SSL_REQUEST = Buffer.from('0000000804d2162f', 'hex');

function parse(sql: string, name = ''): Buffer {
  return typed('P', Buffer.concat([cstr(name), cstr(sql), int16(0)]));
}
const BIND = typed('B', Buffer.concat([cstr(''), cstr(''), int16(0), int16(0), int16(0)]));
const EXECUTE = typed('E', Buffer.concat([cstr(''), int32(0)]));
const DESCRIBE_PORTAL = typed('D', Buffer.concat([Buffer.from('P'), cstr('')]));

function extended(sql: string): Buffer {
  return Buffer.concat([parse(sql), BIND, DESCRIBE_PORTAL, EXECUTE]);
}

const LOGIN_ANSWER = ['R', 'S*', 'K', 'Z:I'];
const ok = (messages: readonly string[], closed = false): StepResult => ({ messages, closed });

export const CASES: readonly ConformanceCase[] = [
  // Startup edge cases.
  { name: 'Terminate before the startup packet closes silently', steps: [
    { send: Buffer.concat([TERMINATE, startup([['user', USER], ['database', 'dev']])]), until: 'close' }] },
  { name: 'a startup length under 8 closes silently', steps: [{ send: Buffer.from('00000002', 'hex'), until: 'close' }] },
  { name: 'a startup length over the limit closes silently', steps: [{ send: Buffer.from('7fffffff00030000', 'hex'), until: 'close' }] },
  { name: 'SSLRequest twice: N, then FATAL 0A000', steps: [{ send: SSL_REQUEST, until: 'byte' }, { send: SSL_REQUEST, until: 'close' }] },
  { name: 'SSLRequest answered N, then a normal login', steps: [{ send: SSL_REQUEST, until: 'byte' }, LOGIN] },
  { name: 'protocol 4.0: FATAL 0A000', steps: [{ send: startup([['user', USER]], 0x00040000), until: 'close' }] },
  { name: 'protocol 3.1 with a _pq_ option: NegotiateProtocolVersion, then the login', steps: [
    { send: startup([['user', USER], ['database', 'dev'], ['_pq_.x', '1']], 0x00030001), until: 'ready' }] },
  { name: 'no user: FATAL 28000', steps: [{ send: startup([['database', 'dev']]), until: 'close' }] },
  { name: 'replication=maybe: FATAL 22023', steps: [{ send: startup([['user', USER], ['replication', 'maybe']]), until: 'close' }] },
  { name: 'an unterminated parameter list: FATAL 08P01', steps: [
    { send: Buffer.concat([int32(4 + 4 + 9), int32(0x00030000), Buffer.from('user\0bob\0')]), until: 'close' }] },
  { name: 'a CancelRequest with an unknown key: no answer, closed', steps: [
    { send: Buffer.from('0000001004d2162e0000000100000002', 'hex'), until: 'close' }] },
  { name: 'a repeated startup parameter', steps: [
    { send: startup([['user', USER], ['database', 'dev'], ['application_name', 'a'], ['application_name', 'b']]), until: 'ready' }],
  differs: { id: 'repeated-startup-parameter', proxy: [ok(['E:FATAL:08P01'], true)] } },

  // After login: errors mid-pipeline, transactions, COPY failures.
  { name: 'an error mid-batch skips to Sync', steps: [LOGIN,
    { send: Buffer.concat([extended('select 1/0'), extended('select 1'), SYNC]), until: 'ready' }] },
  { name: 'an error in a multi-statement simple query', steps: [LOGIN,
    { send: query('select 1; select 1/0; select 2'), until: 'ready' }] },
  { name: 'an error in a transaction, then 25P02, then ROLLBACK', steps: [LOGIN,
    { send: query('begin'), until: 'ready' }, { send: query('select 1/0'), until: 'ready' },
    { send: query('select 1'), until: 'ready' }, { send: query('rollback'), until: 'ready' }] },
  { name: 'two Syncs: the second batch runs after the first failed', steps: [LOGIN,
    { send: Buffer.concat([extended('select 1/0'), SYNC, extended('select 2'), SYNC]), until: 'ready', ready: 2 }] },
  { name: 'COPY FROM STDIN ended by CopyFail', steps: [LOGIN,
    { send: query('create temp table t(v int)'), until: 'ready' },
    { send: query('copy t from stdin'), until: 'copy-in' },
    { send: Buffer.concat([typed('d', Buffer.from('1\n')), typed('f', cstr('given up'))]), until: 'ready' }] },
  { name: 'COPY FROM STDIN with bad data', steps: [LOGIN,
    { send: query('create temp table t(v int)'), until: 'ready' },
    { send: query('copy t from stdin'), until: 'copy-in' },
    { send: Buffer.concat([typed('d', Buffer.from('not a number\n')), typed('c')]), until: 'ready' }] },
  { name: 'COPY TO STDOUT of a missing table', steps: [LOGIN, { send: query('copy nowhere to stdout'), until: 'ready' }] },

  // Protocol violations after login.
  { name: 'an unknown message type after login: FATAL 08P01, closed', steps: [LOGIN,
    { send: typed('y'), until: 'close' }] },

  // Terminate at every stage.
  { name: 'Terminate after login', steps: [LOGIN, { send: TERMINATE, until: 'close' }] },
  { name: 'Terminate in the middle of an extended batch', steps: [LOGIN,
    { send: Buffer.concat([parse('select 1'), BIND, TERMINATE]), until: 'close' }] },
  { name: 'Terminate during COPY FROM STDIN', steps: [LOGIN,
    { send: query('create temp table t(v int)'), until: 'ready' },
    { send: query('copy t from stdin'), until: 'copy-in' }, { send: TERMINATE, until: 'close' }] },
  { name: 'Terminate inside a transaction', steps: [LOGIN, { send: query('begin'), until: 'ready' },
    { send: TERMINATE, until: 'close' }] },

  // The server ends the backend (administrator command): the proxy heals instead.
  { name: 'FATAL mid-query (simple)', steps: [LOGIN, PID, { kill: 'sleeping', send: query('select pg_sleep(30)'), until: 'ready' },
    { send: query('select 1'), until: 'ready' }],
  differs: { id: 'heals-lost-statement', proxy: [ok(LOGIN_ANSWER), ok(['T', 'D', 'C', 'Z:I']), ok(['T', 'E:ERROR:08006', 'Z:I']),
    ok(['T', 'D', 'C', 'Z:I'])] } },
  { name: 'FATAL mid-query (extended, one Sync)', steps: [LOGIN, PID,
    { kill: 'sleeping', send: Buffer.concat([extended('select pg_sleep(30)'), SYNC]), until: 'ready' },
    { send: query('select 1'), until: 'ready' }],
  differs: { id: 'heals-lost-statement', proxy: [ok(LOGIN_ANSWER), ok(['T', 'D', 'C', 'Z:I']),
    ok(['1', '2', 'T', 'E:ERROR:08006', 'Z:I']), ok(['T', 'D', 'C', 'Z:I'])] } },
  { name: 'FATAL while idle', steps: [LOGIN, PID, { kill: 'idle', send: query('select 1'), until: 'ready' }],
    differs: { id: 'heals-idle-session', proxy: [ok(LOGIN_ANSWER), ok(['T', 'D', 'C', 'Z:I']), ok(['T', 'D', 'C', 'Z:I'])] } },
];
