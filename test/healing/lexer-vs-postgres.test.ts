/**
 * The lexer against the real thing: generated multi-statement Query texts, full of adversarial literals, quoted
 * identifiers and nested comments, run on the PostgreSQL test bed as one simple Query. Wherever the server accepts
 * the text, it must have run exactly the statements the lexer found — with standard_conforming_strings on and off.
 */
import fc from 'fast-check';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lexStatements } from '../../src/healing/sql-lexer.js';
import { startTestBed } from '../support/pg-server.js';
import type { TestBed } from '../support/pg-server.js';
import { dollarQuoted, escapeLiteral, gap, nestedComment, plainLiteral, quotedIdent } from './adversarial-sql.js';

let bed: TestBed;
beforeAll(async () => {
  bed = await startTestBed();
}, 120_000);
afterAll(async () => {
  await bed?.stop();
});

/** A value the server can select without a table: a literal, aliased by a quoted identifier. */
const value = fc.tuple(fc.oneof(plainLiteral, escapeLiteral, dollarQuoted, fc.constant('1')),
  quotedIdent.filter((q) => q !== '""'))
  .map(([v, alias]) => `${v} as ${alias}`);
const statement = fc.tuple(fc.array(value, { minLength: 1, maxLength: 3 }), gap).map(([vs, g]) => `select${g}${vs.join(`,${g}`)}`);
const separator = fc.tuple(gap, gap, fc.boolean(), nestedComment).map(([a, b, c, n]) => `${a};${c ? ` ${n} ` : ''}${b}`);
const text = fc.tuple(fc.array(statement, { minLength: 1, maxLength: 4 }), fc.array(separator, { minLength: 1, maxLength: 3 }))
  .map(([ss, seps]) => ss.map((s, i) => `${s}${seps[i % seps.length] ?? ';'}`).join(''));

async function statementsRun(c: pg.Client, sql: string): Promise<number | undefined> {
  try {
    const r = (await c.query(sql)) as unknown as pg.QueryResult | pg.QueryResult[];
    return Array.isArray(r) ? r.length : 1;
  } catch {
    return undefined; // refused as a whole (the raw parser reads the whole text before running any of it)
  }
}

describe('lexer vs PostgreSQL', () => {
  for (const scs of [true, false]) {
    it(`splits Query texts as the server does (standard_conforming_strings ${scs ? 'on' : 'off'})`, async () => {
      const c = new pg.Client({ host: bed.socketDir, port: bed.port, user: 'postgres', database: 'dev' });
      await c.connect();
      try {
        await c.query(`set standard_conforming_strings = ${scs ? 'on' : 'off'}`);
        await c.query('set escape_string_warning = off');
        let accepted = 0;
        const samples = fc.sample(text, { numRuns: 300, seed: scs ? 18 : 81 });
        for (const sql of samples) {
          const ran = await statementsRun(c, sql);
          if (ran === undefined) continue;
          accepted++;
          const lexed = lexStatements(sql, scs);
          expect({ sql, statements: lexed.statements.length }).toEqual({ sql, statements: ran });
        }
        // Not vacuous: most generated texts are valid SQL.
        expect(accepted).toBeGreaterThan(samples.length / 2);
      } finally {
        await c.end();
      }
    }, 120_000);
  }
});
