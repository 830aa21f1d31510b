/**
 * The front door under bad input: malformed startup packets, huge lengths, garbage and stalls get an error or a
 * close within the startup timeout, and the proxy goes on serving everyone else.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { firstError, pgClient, rawExchange, withClient } from '../support/clients.js';
import { startStack } from '../support/stack.js';
import type { Stack } from '../support/stack.js';

let stack: Stack;
let port: number;
const STARTUP_TIMEOUT_MS = 1_000;

beforeAll(async () => {
  stack = await startStack({ config: { startupTimeoutMs: STARTUP_TIMEOUT_MS } });
  port = stack.port;
});

afterAll(async () => {
  await stack?.stop();
});

/** A StartupMessage with the given version word and parameters, built by hand. */
function startup(version: number, params: Record<string, string>): Buffer {
  const body = Buffer.concat([
    Buffer.from([version >>> 24, (version >>> 16) & 0xff, (version >>> 8) & 0xff, version & 0xff]),
    Buffer.from(Object.entries(params).map(([k, v]) => `${k}\0${v}\0`).join('') + '\0'),
  ]);
  const len = Buffer.alloc(4);
  len.writeInt32BE(body.length + 4, 0);
  return Buffer.concat([len, body]);
}

async function stillServing(): Promise<void> {
  const u = await withClient(port, 'survivor', async (c) => (await c.query('select current_user as u')).rows[0].u as string);
  expect(u).toBe('IAMA:survivor');
}

describe('front door', () => {
  it('answers SSLRequest and GSSENCRequest with N', async () => {
    const ssl = Buffer.from('0000000804d2162f', 'hex');
    const gss = Buffer.from('0000000804d21630', 'hex');
    const r = await rawExchange(port, [gss, ssl], 300);
    expect(r.data.toString()).toBe('NN');
  });

  // PostgreSQL answers an invalid startup length by closing without a word (it only logs "invalid length of
  // startup packet"); so does the proxy (issue 21).
  it('closes silently on a length word that is too small', async () => {
    const r = await rawExchange(port, Buffer.from('00000002', 'hex'), 3_000);
    expect(r.closed).toBe(true);
    expect(r.data.length).toBe(0);
    await stillServing();
  });

  it('closes silently on a huge length, before buffering it', async () => {
    const r = await rawExchange(port, Buffer.from('7fffffff00030000', 'hex'), 3_000);
    expect(r.closed).toBe(true);
    expect(r.data.length).toBe(0);
    await stillServing();
  });

  it('closes silently on a Terminate sent before the startup packet', async () => {
    const terminate = Buffer.from('5800000004', 'hex');
    const r = await rawExchange(port, [terminate, startup(196608, { user: 'early', database: 'dev' })], 3_000);
    expect(r.closed).toBe(true);
    expect(r.data.length).toBe(0);
  });

  it('lets node-postgres call end() right after connect() without an error', async () => {
    // pg writes Terminate ahead of its StartupMessage here; an ErrorResponse would reach it as an 'error' event,
    // which ends a Node process that has no listener for it.
    const errors: unknown[] = [];
    const c = pgClient(port, 'quick_quitter');
    c.on('error', (err) => errors.push(err));
    c.connect().catch((err: unknown) => errors.push(err));
    await c.end();
    expect(errors).toEqual([]);
    await stillServing();
  });

  it('refuses a second SSLRequest as PostgreSQL does (FATAL 0A000)', async () => {
    const ssl = Buffer.from('0000000804d2162f', 'hex');
    const r = await rawExchange(port, [ssl, ssl], 3_000);
    expect(r.data.subarray(0, 1).toString()).toBe('N');
    expect(firstError(r.data.subarray(1))).toMatchObject({ S: 'FATAL', C: '0A000' });
    expect(r.closed).toBe(true);
  });

  it('refuses a replication value it cannot read with 22023, as PostgreSQL does', async () => {
    const r = await rawExchange(port, startup(196608, { user: 'x', replication: 'maybe' }), 3_000);
    expect(firstError(r.data)).toMatchObject({ S: 'FATAL', C: '22023' });
    const off = await rawExchange(port, startup(196608, { user: 'x', database: 'dev', replication: 'of' }), 1_500);
    expect(off.data[0]).toBe(0x52); // 'R': "of" reads as off, and the login goes on
  });

  it('closes on 100 KB of garbage', async () => {
    const r = await rawExchange(port, randomBytes(100_000), 3_000);
    expect(r.closed).toBe(true);
    await stillServing();
  });

  it('ends a stalled startup within the startup timeout', async () => {
    const partial = startup(196608, { user: 'staller', database: 'dev' }).subarray(0, 10);
    const r = await rawExchange(port, partial, STARTUP_TIMEOUT_MS + 3_000);
    expect(r.closed).toBe(true);
    expect(r.ms).toBeLessThan(STARTUP_TIMEOUT_MS + 1_500);
    expect(firstError(r.data)?.C).toBe('08P01');
  });

  it('ends a silent connection within the startup timeout', async () => {
    const r = await rawExchange(port, Buffer.alloc(0), STARTUP_TIMEOUT_MS + 3_000);
    expect(r.closed).toBe(true);
    expect(r.ms).toBeLessThan(STARTUP_TIMEOUT_MS + 1_500);
  });

  it('refuses protocol 2.0 and unknown request codes with an ErrorResponse', async () => {
    const r = await rawExchange(port, startup(0x00020000, { user: 'old' }), 3_000);
    expect(firstError(r.data)).toMatchObject({ C: '0A000' });
    const weird = await rawExchange(port, startup(0x04d21700, { user: 'x' }), 3_000);
    expect(weird.closed).toBe(true);
  });

  it('answers a 3.x minor version with NegotiateProtocolVersion and then logs in', async () => {
    const r = await rawExchange(port, startup(0x00030002, { user: 'minor', database: 'dev', '_pq_.future': 'x' }), 1_500);
    expect(r.data[0]).toBe(0x76); // 'v'
    const len = r.data.readInt32BE(1);
    expect(r.data.readInt32BE(5)).toBe(0); // newest minor supported
    expect(r.data.readInt32BE(9)).toBe(1); // one option not recognised
    expect(r.data.toString('utf8', 13, 1 + len - 1)).toBe('_pq_.future');
    // Then AuthenticationOk: 'R' len 8 code 0.
    expect(r.data.subarray(1 + len, 1 + len + 9).toString('hex')).toBe('520000000800000000');
  });

  it('refuses a startup without a user name with 28000', async () => {
    const r = await rawExchange(port, startup(196608, { database: 'dev' }), 3_000);
    expect(firstError(r.data)).toMatchObject({ C: '28000' });
  });

  it('refuses replication connections with a clear error', async () => {
    const r = await rawExchange(port, startup(196608, { user: 'x', replication: 'database' }), 3_000);
    expect(firstError(r.data)).toMatchObject({ C: '0A000' });
    expect(firstError(r.data)?.M).toMatch(/replication/);
  });

  it('drops a CancelRequest with an unknown key without an answer', async () => {
    const r = await rawExchange(port, Buffer.from('0000001004d2162e0000000100000002', 'hex'), 2_000);
    expect(r.closed).toBe(true);
    expect(r.data.length).toBe(0);
  });

  it('keeps serving many concurrent clients while garbage arrives', async () => {
    const garbage = Array.from({ length: 30 }, () => rawExchange(port, randomBytes(2_000), 3_000));
    const good = Array.from({ length: 10 }, () => stillServing());
    await Promise.all([...garbage, ...good]);
  });
});
