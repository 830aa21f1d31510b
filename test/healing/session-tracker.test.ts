import { describe, expect, it } from 'vitest';
import { SessionTracker } from '../../src/healing/session-tracker.js';

// Frontend messages built by hand from the protocol chapter, independent of the code under test.
function frame(type: string, body: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeInt32BE(body.length + 4, 0);
  return Buffer.concat([Buffer.from(type), len, body]);
}
const query = (sql: string): Buffer => frame('Q', Buffer.from(`${sql}\0`));
const parse = (name: string, sql: string): Buffer => frame('P', Buffer.concat([Buffer.from(`${name}\0${sql}\0`), Buffer.from([0, 0])]));
const close = (name: string): Buffer => frame('C', Buffer.from(`S${name}\0`));
const SYNC = frame('S', Buffer.alloc(0));

function feed(t: SessionTracker, bytes: Buffer, cuts: number[]): void {
  let prev = 0;
  for (const c of [...cuts, bytes.length]) {
    t.fromClient.observe(bytes.subarray(prev, c));
    prev = c;
  }
}

describe('SessionTracker', () => {
  const stream = Buffer.concat([query("SET search_path TO a, b; select 1"), parse('s1', 'select $1'), SYNC,
    parse('s2', 'select 2'), close('s2'), SYNC, query("PREPARE p AS select 1"), query('select 42 from t')]);

  it('sees settings, prepared statements and statements in flight whatever the chunking', () => {
    for (let a = 0; a <= stream.length; a += 3) {
      for (const b of [a, Math.min(stream.length, a + 7)]) {
        const t = new SessionTracker();
        feed(t, stream, [a, b]);
        expect(t.replayText()).toBe('SET search_path TO a, b;\nPREPARE p AS select 1');
        expect(t.replayParses().map((f) => f.toString('hex'))).toEqual([parse('s1', 'select $1').toString('hex')]);
        expect(t.inFlight).toBe(5);
        expect(t.unhealable).toBeUndefined();
      }
    }
  });

  it('marks state that cannot be rebuilt, without being fooled by table names', () => {
    const unhealable = (sql: string): string | undefined => {
      const t = new SessionTracker();
      t.fromClient.observe(query(sql));
      return t.unhealable;
    };
    expect(unhealable('create temp table x(a int)')).toMatch(/temporary table/);
    expect(unhealable('select * into temporary t from u')).toMatch(/temporary table/);
    expect(unhealable('insert into temp values (1)')).toBeUndefined();
    expect(unhealable('listen chan')).toMatch(/LISTEN/);
    expect(unhealable('declare c cursor with hold for select 1')).toMatch(/WITH HOLD/);
    expect(unhealable('select pg_advisory_lock(1)')).toMatch(/advisory/);
    expect(unhealable('set role admin')).toMatch(/ROLE/);
    expect(unhealable(`select ${'x, '.repeat(20_000)}1 from t union all select 1`)).toBeUndefined();
  });

  it('counts ReadyForQuery and knows when the session is idle', () => {
    const t = new SessionTracker();
    t.fromClient.observe(Buffer.concat([query('begin'), query('select 1')]));
    expect(t.idle).toBe(false);
    t.readyForQuery(0x54);
    t.readyForQuery(0x54);
    expect(t.idle).toBe(false);
    t.fromClient.observe(query('commit'));
    t.readyForQuery(0x49);
    expect(t.idle).toBe(true);
  });
});
