/**
 * Fuzzing the front door while a real client works: thousands of random and structure-mutated startup, SSL,
 * GSSENC and cancel packets, and logged-in sessions fed random typed frames and garbage, each on its own
 * connection, 50 at a time. Meanwhile node-postgres runs `select $1::text` in a loop on its own session with a
 * token only it knows. Properties:
 * - the proxy never throws out of its handlers (no uncaught exception or unhandled rejection in this process);
 * - the real client never fails and always gets its own token back;
 * - no fuzz connection ever receives the real client's token, or another fuzz session's token;
 * - no answer is an internal error (XX000); refusals before login are whole FATAL ErrorResponses with a SQLSTATE,
 *   a message and (for the proxy's own refusals) a hint, followed by the close;
 * - afterwards every session and every upstream connection is gone, and a fresh client logs in.
 *
 * FUZZ_CASES (default 10000) and FUZZ_SEED (default: random, printed) reproduce a run.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import fc from 'fast-check';
import { runPool } from '../../scripts/load/pool.js';
import { pgClient, withClient } from '../support/clients.js';
import { startStack } from '../support/stack.js';
import type { Stack } from '../support/stack.js';
import { describeCase, fuzzCase, POST_USER } from './fuzz-cases.js';
import type { FrontCase, FuzzCase, PostCase } from './fuzz-cases.js';
import { RawConnection } from './raw-connection.js';
import { backendKey, cancelRequest, errorsIn, query, scanBackend, startupMessage, TERMINATE } from './wire.js';
import type { BackendStream } from './wire.js';

const CASES = Number(process.env.FUZZ_CASES ?? 10_000);
const SEED = Number(process.env.FUZZ_SEED ?? (Date.now() % 2 ** 31));
const CONCURRENCY = 50;
/**
 * A case is over once nothing has moved for a while: at least IDLE_MS, and at least twice as long as the proxy
 * currently takes to give its first answer (measured on the cases themselves), so that a busy machine slows the
 * fuzzing down instead of cutting cases off before the proxy has read them.
 */
const IDLE_MS = 200;
const MAX_IDLE_MS = 2_000;
const MAX_CASE_MS = 5_000;
const LOGIN_MS = 8_000;
/** SQLSTATEs the proxy itself answers before login: each must come with a hint. */
const PROXY_CODES = new Set(['08P01', '28000', '0A000', '08001', '08004', '53300', '57P01', '3D000']);

/** Tokens nobody but their owner can know: the real client's, and each post-login fuzz session's own. */
const RUN = randomBytes(8).toString('hex');
const MARKER = `M${RUN}`;
const FUZZ_TOKEN = new RegExp(`F${RUN}-(\\d+)-`, 'g');

let stack: Stack;
const unhandled: unknown[] = [];
const onUnhandled = (err: unknown): void => {
  unhandled.push(err);
};

beforeAll(async () => {
  process.on('uncaughtException', onUnhandled);
  process.on('unhandledRejection', onUnhandled);
  stack = await startStack();
});

afterAll(async () => {
  process.off('uncaughtException', onUnhandled);
  process.off('unhandledRejection', onUnhandled);
  await stack?.stop();
});

interface Outcome {
  readonly data: Buffer;
  readonly stream: BackendStream;
  readonly closedByServer: boolean;
  readonly loggedIn: boolean;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Recent times from a case's last write to the proxy's first answer. */
class Responsiveness {
  private readonly recent: number[] = [];

  record(ms: number): void {
    this.recent.push(ms);
    if (this.recent.length > 100) this.recent.shift();
  }

  /** How long silence must last before a case counts as waiting for more bytes. */
  get idleMs(): number {
    const sorted = [...this.recent].sort((a, b) => a - b);
    const p95 = sorted[Math.floor(sorted.length * 0.95)] ?? 0;
    return Math.min(MAX_IDLE_MS, Math.max(IDLE_MS, 2 * p95));
  }
}
const responsiveness = new Responsiveness();

async function runFront(c: FrontCase): Promise<Outcome> {
  const conn = await RawConnection.open(stack.port);
  let from = 0;
  for (const cut of [...c.splits, c.bytes.length]) {
    if (cut <= from) continue;
    conn.write(c.bytes.subarray(from, cut));
    from = cut;
    if (c.pauses) await sleep(1);
  }
  if (c.end === 'reset') {
    // Give the proxy a moment to start on the bytes, then vanish mid-conversation.
    await sleep(c.pauses ? 2 : 0);
    conn.reset();
  } else {
    if (c.end === 'half-close') conn.end();
    const wrote = Date.now();
    const closed = await conn.waitIdleOrClose(responsiveness.idleMs, MAX_CASE_MS);
    if (conn.firstDataAt !== undefined) responsiveness.record(conn.firstDataAt - wrote);
    // A FATAL error must be followed by the close: wait for it a little longer before judging.
    if (!closed && errorsIn(scanBackend(conn.data)).some((e) => e.S === 'FATAL')) await conn.waitClose(1_500);
    conn.destroy();
  }
  const stream = scanBackend(conn.data);
  return { data: conn.data, stream, closedByServer: conn.closedByServer, loggedIn: isLoggedIn(stream) };
}

async function runPost(c: PostCase, index: number): Promise<Outcome> {
  const conn = await RawConnection.open(stack.port);
  conn.write(startupMessage([['user', POST_USER], ['database', 'dev'], ['application_name', 'fuzz']]));
  const loggedIn = await conn.waitFor((d) => isLoggedIn(scanBackend(d)), LOGIN_MS);
  if (loggedIn) {
    const key = backendKey(scanBackend(conn.data));
    // Its own token first: whatever follows, a leak from this session would carry it.
    conn.write(query(`select 'F${RUN}-${index}-' as own`));
    for (const a of c.actions) {
      switch (a.do) {
        case 'send':
          conn.write(a.bytes);
          break;
        case 'pause':
          await sleep(a.ms);
          break;
        case 'cancel-own':
          if (key) await sendCancel(key.processId, key.secretKey);
          break;
        case 'cancel-random':
          await sendCancel(a.processId, a.secretKey);
          break;
        default:
          throw new Error(`unknown action ${JSON.stringify(a satisfies never)}`);
      }
    }
    if (c.end === 'reset') {
      await sleep(5);
      conn.reset();
    } else {
      await conn.waitIdleOrClose(responsiveness.idleMs, MAX_CASE_MS);
      conn.destroy();
    }
  } else {
    conn.destroy();
  }
  const stream = scanBackend(conn.data);
  return { data: conn.data, stream, closedByServer: conn.closedByServer, loggedIn };
}

async function sendCancel(processId: number, secretKey: number): Promise<void> {
  const conn = await RawConnection.open(stack.port);
  conn.write(cancelRequest(processId, secretKey));
  await conn.waitClose(1_000);
  conn.destroy();
}

/** AuthenticationOk then, eventually, ReadyForQuery. */
function isLoggedIn(stream: BackendStream): boolean {
  return stream.messages.some((m) => m.type === 'R' && m.body.length === 4 && m.body.readInt32BE(0) === 0)
    && stream.messages.some((m) => m.type === 'Z');
}

/** What is wrong with one case's outcome (empty when nothing). */
function violations(c: FuzzCase, index: number, o: Outcome): string[] {
  const found: string[] = [];
  const text = o.data.toString('latin1');
  if (text.includes(MARKER)) found.push('received the real client\'s token');
  for (const m of text.matchAll(FUZZ_TOKEN)) {
    if (Number(m[1]) !== index) found.push(`received fuzz session ${m[1]}'s token`);
  }
  const errors = errorsIn(o.stream);
  for (const e of errors) if (e.C === 'XX000') found.push(`internal error: ${e.M ?? ''}`);
  if (c.kind === 'post') {
    if (!o.loggedIn) found.push(`the post-login case could not log in: ${JSON.stringify(errors[0] ?? o.data.toString('hex', 0, 200))}`);
    return found;
  }
  if (/[^N]/.test(o.stream.answers)) found.push(`answered ${JSON.stringify(o.stream.answers)} to SSL/GSS requests`);
  if (o.closedByServer && o.stream.incomplete > 0) found.push(`sent ${o.stream.incomplete} bytes that are not a whole message`);
  if (!o.loggedIn) {
    for (const e of errors) {
      if (!e.S || !/^[0-9A-Z]{5}$/.test(e.C ?? '') || !e.M) found.push(`malformed ErrorResponse ${JSON.stringify(e)}`);
      if (PROXY_CODES.has(e.C ?? '') && !e.H) found.push(`refusal without a hint: ${JSON.stringify(e)}`);
    }
    if (errors.some((e) => e.S === 'FATAL') && !o.closedByServer && c.end === 'wait') found.push('FATAL error but the connection stayed open');
  }
  return found;
}

const ms = (ns: number): string => (ns / 1e6).toFixed(0);

function classify(c: FuzzCase, o: Outcome): string {
  const first = errorsIn(o.stream)[0];
  if (c.kind === 'post') return o.loggedIn ? 'post: logged in, fed frames' : 'post: login failed';
  if (c.end === 'reset') return 'front: client reset';
  if (o.loggedIn) return 'front: logged in';
  if (first) return `front: refused ${first.C ?? '?'}`;
  if (o.closedByServer) return o.stream.answers.length > 0 ? 'front: answered N, then closed' : 'front: closed without a word';
  return o.stream.answers.length > 0 ? 'front: answered N, then waited' : 'front: waiting for more bytes';
}

describe('fuzzing the front door', () => {
  it(`survives ${CASES} hostile connections while a real client keeps working`, async () => {
    const cases = fc.sample(fuzzCase, { numRuns: CASES, seed: SEED });

    // The real client: its own session, its own token, all the while.
    const real = pgClient(stack.port, 'marker');
    const realErrors: unknown[] = [];
    real.on('error', (e) => realErrors.push(e));
    await real.connect();
    let realQueries = 0;
    let fuzzing = true;
    const realLoop = (async () => {
      while (fuzzing) {
        const token = `${MARKER}-${realQueries}`;
        try {
          const r = await real.query('select $1::text as t', [token]);
          if (r.rows[0]?.t !== token) realErrors.push(new Error(`expected ${token}, got ${JSON.stringify(r.rows)}`));
        } catch (err) {
          realErrors.push(err);
          return;
        }
        realQueries++;
      }
    })();

    const failures: string[] = [];
    const outcomes = new Map<string, number>();
    const missingHints = new Map<string, { n: number; example: string }>();
    let ownTokensEchoed = 0;
    const loopDelay = monitorEventLoopDelay({ resolution: 10 });
    loopDelay.enable();
    const started = Date.now();
    await runPool(cases, CONCURRENCY, async (c, i) => {
      let o: Outcome;
      try {
        o = c.kind === 'front' ? await runFront(c) : await runPost(c, i);
      } catch (err) {
        failures.push(`case ${i}: the test client failed: ${String(err)}\n  ${describeCase(c)}`);
        return;
      }
      const bad = violations(c, i, o);
      if (bad.length > 0) failures.push(`case ${i}: ${bad.join('; ')}\n  ${describeCase(c)}`);
      const kind = classify(c, o);
      outcomes.set(kind, (outcomes.get(kind) ?? 0) + 1);
      if (c.kind === 'post' && o.data.toString('latin1').includes(`F${RUN}-${i}-`)) ownTokensEchoed++;
      for (const e of errorsIn(o.stream)) {
        if (o.loggedIn || e.H) continue;
        const seen = missingHints.get(e.C ?? '?');
        missingHints.set(e.C ?? '?', { n: (seen?.n ?? 0) + 1, example: seen?.example ?? (e.M ?? '').slice(0, 100) });
      }
    });
    const elapsed = Date.now() - started;
    loopDelay.disable();
    fuzzing = false;
    await realLoop;
    await real.end();

    const report = [
      `fuzz: ${CASES} cases in ${(elapsed / 1000).toFixed(1)} s (${Math.round(CASES / (elapsed / 1000))}/s), seed ${SEED}, ` +
        `${CONCURRENCY} at a time`,
      `fuzz: idle threshold at the end ${responsiveness.idleMs} ms`,
      `fuzz: event loop delay p50 ${ms(loopDelay.percentile(50))}, p99 ${ms(loopDelay.percentile(99))}, max ${ms(loopDelay.max)} ms`,
      `fuzz: the real client ran ${realQueries} queries, errors: ${realErrors.length}`,
      `fuzz: post-login sessions that got their own token back: ${ownTokensEchoed}`,
      ...[...outcomes].sort((a, b) => b[1] - a[1]).map(([k, n]) => `fuzz:   ${String(n).padStart(5)}  ${k}`),
      ...(missingHints.size > 0 ? ['fuzz: errors without a hint (passed through from the server):',
        ...[...missingHints].map(([code, { n, example }]) => `fuzz:   ${String(n).padStart(5)}  ${code}, e.g. ${example}`)] : []),
    ];
    console.log(report.join('\n'));

    expect(unhandled.map(String)).toEqual([]);
    expect(realErrors.map(String)).toEqual([]);
    expect(realQueries).toBeGreaterThan(100);
    expect(failures.slice(0, 10), `${failures.length} failing cases (seed ${SEED}); first ten`).toEqual([]);
    // Every kind of case ran, in numbers.
    expect(outcomes.get('post: logged in, fed frames') ?? 0).toBeGreaterThan(CASES / 10);

    // Nothing left behind: no session in the proxy, no connection in the database.
    await expect.poll(() => stack.proxy.listeners[0]?.activeConnections, { timeout: 10_000, interval: 100 }).toBe(0);
    await expect.poll(async () => (await stack.bed.superuserQuery<{ n: string }>(
      "select count(*) as n from pg_stat_activity where usename like 'IAMA:%'"))[0]?.n, { timeout: 15_000, interval: 200 }).toBe('0');

    const user = await withClient(stack.port, 'fresh-after-fuzz', async (c) => (await c.query('select current_user as u')).rows[0].u as string);
    expect(user).toBe('IAMA:fresh-after-fuzz');
    // And the proxy can still shut down: no socket of a finished session is left for server.close() to wait on.
    expect(await within(stack.proxy.close(), 10_000)).toBe(true);
  }, 180_000);

  it('found by fuzzing: a client that sent Terminate and then more bytes is closed, and shutdown still completes', async () => {
    // The upstream closes after Terminate; the session ended but left the client socket paused with unread bytes,
    // so it never saw the client's FIN: one file descriptor leaked per such session, and server.close() (graceful
    // shutdown) waited for it forever.
    const proxy = await stack.startProxy();
    const port = proxy.addresses[0]?.port as number;
    const conn = await RawConnection.open(port);
    conn.write(startupMessage([['user', POST_USER], ['database', 'dev']]));
    expect(await conn.waitFor((d) => isLoggedIn(scanBackend(d)), LOGIN_MS)).toBe(true);
    conn.write(TERMINATE);
    // PostgreSQL closes after Terminate, and so must the proxy.
    expect(await conn.waitClose(3_000)).toBe(true);
    conn.write(query('begin'));
    conn.destroy();
    expect(await within(proxy.close(), 5_000)).toBe(true);
  });
});

/** True when the promise settles within ms. */
function within(p: Promise<unknown>, ms: number): Promise<boolean> {
  return Promise.race([p.then(() => true, () => true), sleep(ms).then(() => false)]);
}
