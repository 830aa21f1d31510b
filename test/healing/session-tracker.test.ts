import { describe, expect, it } from 'vitest';
import { DEFAULT_MAX_TRACKED_BYTES, SessionTracker } from '../../src/healing/session-tracker.js';
import { BIND_COMPLETE, CLOSE_COMPLETE, PARSE_COMPLETE, SYNC, bind, closeStatement, complete, error, exchange, execute, frame,
  parameterStatus, parse, query, ready } from './wire.js';

const ok = (...tags: string[]): Buffer => Buffer.concat([...tags.map(complete), ready('I')]);

describe('SessionTracker: only what the server confirmed', () => {
  it('keeps a SET once CommandComplete SET arrives, and PREPAREs and Parses once accepted, whatever the chunking', () => {
    const client = Buffer.concat([query('SET search_path TO a, b; select 1'), parse('s1', 'select $1'), SYNC,
      parse('s2', 'select 2'), closeStatement('s2'), SYNC, query('PREPARE p AS select 1'), query('select 42 from t')]);
    const server = Buffer.concat([complete('SET'), complete('SELECT 1'), ready('I'), PARSE_COMPLETE, ready('I'),
      PARSE_COMPLETE, CLOSE_COMPLETE, ready('I'), ok('PREPARE'), ok('SELECT 1')]);
    for (let cut = 0; cut <= Math.max(client.length, server.length); cut++) {
      const t = new SessionTracker();
      exchange(t, client, server, cut);
      expect(t.replayText()).toBe('SET search_path TO a, b;\nPREPARE p AS select 1');
      expect(t.replayParses().map((f) => f.toString('hex'))).toEqual([parse('s1', 'select $1').toString('hex')]);
      expect(t.inFlight).toBe(0);
      expect(t.unhealable).toBeUndefined();
    }
  });

  it('issue 18 finding 1: SET inside a string literal is data, not a setting', () => {
    const t = new SessionTracker();
    exchange(t, query("select 'Robert; SET search_path = evil, public; SET statement_timeout = 1; x'"), ok('SELECT 1'));
    exchange(t, query('select $$ ; SET search_path = evil $$, "a;SET x=1", E\'\\\'; SET y = 2; \' /* ; SET z=3 /* ; */ ; */ -- ; SET w=4\n'), ok('SELECT 1'));
    expect(t.replayText()).toBe('');
    expect(t.unhealable).toBeUndefined();
  });

  it('does not keep a SET the server refused, one in a rolled-back transaction, or SET LOCAL', () => {
    const t = new SessionTracker();
    exchange(t, query('SET work_mem = 1; select 1/0'), Buffer.concat([complete('SET'), error('22012'), ready('I')]));
    exchange(t, query('BEGIN'), Buffer.concat([complete('BEGIN'), ready('T')]));
    exchange(t, query('SET a.b = 1'), Buffer.concat([complete('SET'), ready('T')]));
    exchange(t, query('ROLLBACK'), ok('ROLLBACK'));
    exchange(t, query('BEGIN; SET a.c = 1; SAVEPOINT s; SET a.d = 1; ROLLBACK TO SAVEPOINT s; COMMIT'),
      ok('BEGIN', 'SET', 'SAVEPOINT', 'SET', 'ROLLBACK', 'COMMIT'));
    exchange(t, query('BEGIN; SET a.e = 1; select 1/0'), Buffer.concat([complete('BEGIN'), complete('SET'), error('22012'), ready('E')]));
    exchange(t, query('COMMIT'), ok('ROLLBACK')); // COMMIT of a failed transaction rolls back
    exchange(t, query('SET LOCAL a.f = 1'), ok('SET'));
    exchange(t, query('set a.g to 2'), ok('SET'));
    expect(t.replayText()).toBe('SET a.c = 1;\nset a.g to 2');
  });

  it('lost inside a transaction: what it changed is gone', () => {
    const t = new SessionTracker();
    exchange(t, query('BEGIN; SET a.x = 1'), Buffer.concat([complete('BEGIN'), complete('SET'), ready('T')]));
    t.transactionLost();
    expect(t.replayText()).toBe('');
  });

  it('last SET of a name wins; RESET and RESET ALL drop settings', () => {
    const t = new SessionTracker();
    exchange(t, query('SET a.x = 1; SET a.y = 1; SET a.x = 2'), ok('SET', 'SET', 'SET'));
    expect(t.replayText()).toBe('SET a.y = 1;\nSET a.x = 2');
    exchange(t, query('RESET a.y'), ok('RESET'));
    expect(t.replayText()).toBe('SET a.x = 2');
    exchange(t, query('RESET ALL'), ok('RESET'));
    expect(t.replayText()).toBe('');
  });

  it('ParameterStatus is the truth for reported settings', () => {
    const t = new SessionTracker();
    t.startedWith([parameterStatus('application_name', 'psql'), parameterStatus('standard_conforming_strings', 'on')]);
    exchange(t, query("SET application_name = 'a'"), Buffer.concat([complete('SET'), parameterStatus('application_name', 'a'), ready('I')]));
    expect(t.replayText()).toBe(`SET "application_name" TO 'a'`);
    exchange(t, query('BEGIN'), Buffer.concat([complete('BEGIN'), ready('T')]));
    exchange(t, query("SET application_name = 'b'"), Buffer.concat([complete('SET'), parameterStatus('application_name', 'b'), ready('T')]));
    exchange(t, query('ROLLBACK'), Buffer.concat([complete('ROLLBACK'), parameterStatus('application_name', 'a'), ready('I')]));
    expect(t.replayText()).toBe(`SET "application_name" TO 'a'`);
    exchange(t, query("SET application_name = 'psql'"), Buffer.concat([complete('SET'), parameterStatus('application_name', 'psql'), ready('I')]));
    expect(t.replayText()).toBe('');
  });

  it('reads literals as the server does: standard_conforming_strings off makes \\\' an escaped quote', () => {
    const sql = "select 'a\\'; SET search_path = evil; --'";
    const off = new SessionTracker();
    off.startedWith([parameterStatus('standard_conforming_strings', 'off')]);
    exchange(off, query(sql), ok('SELECT 1'));
    expect(off.replayText()).toBe('');
    expect(off.unhealable).toBeUndefined();
    const on = new SessionTracker();
    on.startedWith([parameterStatus('standard_conforming_strings', 'on')]);
    exchange(on, query(sql), ok('SELECT 1', 'SET'));
    expect(on.replayText()).toBe('SET search_path = evil');
    // Not reported: the text must read the same both ways, or the session is not healable.
    const unknown = new SessionTracker();
    exchange(unknown, query(sql), ok('SELECT 1'));
    expect(unknown.unhealable).toMatch(/standard_conforming_strings/);
  });

  it('an answer that does not fit its statement stops tracking (never a misattributed SET)', () => {
    const t = new SessionTracker();
    exchange(t, query('select 1'), ok('SET'));
    expect(t.unhealable).toMatch(/does not fit/);
    expect(t.reusable).toBe(false);
    expect(t.replayText()).toBe('');
  });
});

describe('SessionTracker: what it cannot prove', () => {
  const after = (sql: string, ...tags: string[]): SessionTracker => {
    const t = new SessionTracker();
    exchange(t, query(sql), ok(...(tags.length > 0 ? tags : ['SELECT 1'])));
    return t;
  };

  it('marks state that cannot be rebuilt, without being fooled by table names', () => {
    expect(after('create temp table x(a int)', 'CREATE TABLE').unhealable).toMatch(/temporary table/);
    expect(after('select * into temporary t from u', 'SELECT 0').unhealable).toMatch(/temporary table/);
    expect(after('create table #t (a int)', 'CREATE TABLE').unhealable).toMatch(/temporary table/);
    expect(after('insert into temp values (1)', 'INSERT 0 1').unhealable).toBeUndefined();
    expect(after('listen chan', 'LISTEN').unhealable).toMatch(/LISTEN/);
    expect(after('declare c cursor with hold for select 1', 'DECLARE CURSOR').unhealable).toMatch(/WITH HOLD/);
    expect(after('select pg_advisory_lock(1)').unhealable).toMatch(/advisory/);
    expect(after('set role admin', 'SET').unhealable).toMatch(/ROLE/);
    expect(after("do $$ begin perform set_config('search_path', 'evil', false); end $$", 'DO').unhealable).toMatch(/DO/);
    expect(after('call p()', 'CALL').unhealable).toMatch(/procedure/);
    expect(after('frobnicate everything', 'FROBNICATE').unhealable).toMatch(/does not know/);
    expect(after(`select ${'x, '.repeat(20_000)}1 from t union all select 1`).unhealable).toBeUndefined();
  });

  it('issue 18 finding 6: the reuse-guard bypasses all leave the connection unusable for another client', () => {
    expect(after('select 1; SET ROLE r1', 'SELECT 1', 'SET').reusable).toBe(false);
    expect(after('/* x */ SET ROLE r1', 'SET').reusable).toBe(false);
    expect(after("select set_config('role','r1',false)").reusable).toBe(false);
    expect(after('select 1; LISTEN secretchan', 'SELECT 1', 'LISTEN').reusable).toBe(false);
    expect(after('SET SESSION AUTHORIZATION r1', 'SET').reusable).toBe(false);
    expect(after('select pg_catalog.set_config(name, \'x\', false) from t').reusable).toBe(false);
    // A setting changed by set_config() is not healable (its value is not known) but a reset undoes it.
    const sc = after("select set_config('search_path', 'evil', false)");
    expect(sc.unhealable).toMatch(/set_config/);
    expect(sc.reusable).toBe(true);
  });

  it('a FunctionCall that ran makes the session non-healable; one lost before it answered does not', () => {
    const t = new SessionTracker();
    const call = frame('F', Buffer.alloc(10));
    exchange(t, call, Buffer.alloc(0));
    expect(t.unhealable).toBeUndefined();
    t.transactionLost();
    const u = new SessionTracker();
    exchange(u, call, Buffer.concat([frame('V', Buffer.from([0, 0, 0, 1, 0x31])), ready('I')]));
    expect(u.unhealable).toMatch(/function call/);
    expect(u.reusable).toBe(false);
  });

  it('a statement too large to read, or simple and extended mixed without Sync stop tracking', () => {
    const big = after(`select '${'x'.repeat(70_000)}'`);
    expect(big.unhealable).toMatch(/too large/);
    const t = new SessionTracker();
    exchange(t, Buffer.concat([parse('', 'select 1'), query('select 2'), SYNC]), Buffer.alloc(0));
    expect(t.unhealable).toMatch(/mixed/);
  });
});

describe('SessionTracker: prepared statements and bounds (issue 18 finding 4)', () => {
  it('keeps a named statement only once ParseComplete arrives, and forgets it on Close, DEALLOCATE ALL or failure', () => {
    const t = new SessionTracker();
    exchange(t, Buffer.concat([parse('bad', 'selec 1'), parse('good', 'select 1'), SYNC]), Buffer.concat([error('42601'), ready('I')]));
    expect(t.preparedNames().protocol).toEqual([]);
    exchange(t, Buffer.concat([parse('good', 'select 1'), bind('', 'good'), execute(''), SYNC]),
      Buffer.concat([PARSE_COMPLETE, BIND_COMPLETE, complete('SELECT 1'), ready('I')]));
    expect(t.preparedNames().protocol).toEqual(['good']);
    exchange(t, Buffer.concat([closeStatement('good'), SYNC]), Buffer.concat([CLOSE_COMPLETE, ready('I')]));
    expect(t.preparedNames().protocol).toEqual([]);
    exchange(t, Buffer.concat([parse('again', 'select 1'), SYNC]), Buffer.concat([PARSE_COMPLETE, ready('I')]));
    exchange(t, query('DEALLOCATE ALL'), ok('DEALLOCATE ALL'));
    expect(t.preparedNames().protocol).toEqual([]);
    expect(t.trackedBytes).toBeLessThan(1024);
  });

  it('a SET run through the extended protocol counts once executed and committed', () => {
    const t = new SessionTracker();
    exchange(t, Buffer.concat([parse('', 'SET a.x = 1'), bind('', ''), execute(''), SYNC]),
      Buffer.concat([PARSE_COMPLETE, BIND_COMPLETE, complete('SET'), ready('I')]));
    expect(t.replayText()).toBe('SET a.x = 1');
  });

  it('a failing Parse then 30,000 named 60 KB Parses then Sync: tracked bytes never pass the cap', () => {
    const t = new SessionTracker();
    const body = `select '${'x'.repeat(60_000)}'`;
    let peak = 0;
    t.fromClient.observe(parse('bad', 'selec 1'));
    t.fromServer.observe(error('42601'));
    for (let i = 0; i < 30_000; i++) {
      t.fromClient.observe(parse(`s${i}`, body));
      peak = Math.max(peak, t.trackedBytes);
    }
    t.fromClient.observe(SYNC);
    t.fromServer.observe(ready('I'));
    expect(peak).toBeLessThanOrEqual(DEFAULT_MAX_TRACKED_BYTES);
    expect(t.preparedNames().protocol).toEqual([]);
    // The same Parses all accepted: the cap is reached, the session stops being healable and its state is released.
    const u = new SessionTracker();
    for (let i = 0; i < 30_000; i++) {
      u.fromClient.observe(parse(`s${i}`, body));
      u.fromServer.observe(PARSE_COMPLETE);
      peak = Math.max(peak, u.trackedBytes);
    }
    expect(peak).toBeLessThanOrEqual(DEFAULT_MAX_TRACKED_BYTES + 70_000);
    expect(u.unhealable).toMatch(/bytes the proxy keeps/);
    expect(u.trackedBytes).toBe(0);
    expect(u.reusable).toBe(false);
  });

  it("8,000 `select 1/0; SET application_name='<60 KB>'`: nothing kept", () => {
    const t = new SessionTracker();
    const sent = query(`select 1/0; SET application_name='${'a'.repeat(60_000)}'`);
    const answer = Buffer.concat([error('22012'), ready('I')]);
    for (let i = 0; i < 8_000; i++) exchange(t, sent, answer);
    expect(t.trackedBytes).toBe(0);
    expect(t.replayText()).toBe('');
    expect(t.unhealable).toBeUndefined();
  });

  it('counts ReadyForQuery and knows when the session is idle', () => {
    const t = new SessionTracker();
    t.fromClient.observe(Buffer.concat([query('begin'), query('select 1')]));
    expect(t.idle).toBe(false);
    t.fromServer.observe(Buffer.concat([complete('BEGIN'), ready('T'), complete('SELECT 1'), ready('T')]));
    expect(t.idle).toBe(false);
    t.fromClient.observe(query('commit'));
    t.fromServer.observe(Buffer.concat([complete('COMMIT'), ready('I')]));
    expect(t.idle).toBe(true);
  });
});
