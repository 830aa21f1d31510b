/**
 * Generated SQL against the tracker: statements hiding `;`, SET, SET ROLE, LISTEN and set_config() inside string
 * literals (plain, E'' with escapes, dollar-quoted with tags), quoted identifiers and nested comments, joined into
 * one Query, answered as the server would, and fed split at random byte positions. The tracker must keep exactly
 * the genuine SETs, and refuse reuse exactly when a genuine statement it cannot undo ran.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SessionTracker } from '../../src/healing/session-tracker.js';
import { lexStatements } from '../../src/healing/sql-lexer.js';
import { complete, feed, parameterStatus, query, ready } from './wire.js';
import { gap, item, plainLiteral } from './adversarial-sql.js';

type Generated = { readonly text: string; readonly tag: string; readonly set?: string; readonly guard?: boolean };

const harmless = fc.tuple(fc.array(item, { minLength: 1, maxLength: 4 }), gap)
  .map(([items, g]): Generated => ({ text: `select${g}${items.join(`,${g}`)}`, tag: 'SELECT 1' }));
const genuineSet = fc.tuple(fc.nat(1000), plainLiteral.filter((l) => !l.includes('\\')), gap)
  .map(([n, value, g]): Generated => {
    const text = `SET${g}fz.k${n} = ${value}`;
    return { text, tag: 'SET', set: text };
  });
const setLocal = plainLiteral.filter((l) => !l.includes('\\')).map((v): Generated => ({ text: `SET LOCAL fz.l = ${v}`, tag: 'SET' }));
const unresettable = fc.constantFrom<Generated>(
  { text: 'SET ROLE r1', tag: 'SET', guard: true },
  { text: 'LISTEN secretchan', tag: 'LISTEN', guard: true },
  { text: "select set_config('role','r1',false)", tag: 'SELECT 1', guard: true },
  { text: 'SET SESSION AUTHORIZATION r1', tag: 'SET', guard: true },
);

function answer(statements: readonly Generated[]): Buffer {
  return Buffer.concat([...statements.map((s) => complete(s.tag)), ready('I')]);
}

function run(statements: readonly Generated[], separators: readonly string[], cuts: readonly number[]): SessionTracker {
  const text = statements.map((s, i) => `${s.text}${separators[i % separators.length] ?? ';'}`).join('');
  const t = new SessionTracker();
  t.startedWith([parameterStatus('standard_conforming_strings', 'on')]);
  const sent = query(text);
  const answered = answer(statements);
  feed((c) => t.fromClient.observe(c), sent, cuts.map((c) => c % (sent.length + 1)).sort((a, b) => a - b));
  feed((c) => t.fromServer.observe(c), answered, cuts.map((c) => c % (answered.length + 1)).sort((a, b) => a - b));
  return t;
}

const separator = fc.tuple(gap, gap).map(([a, b]) => `${a};${b}`);

describe('tracker fuzz', () => {
  it('the lexer finds exactly the generated statements', () => {
    fc.assert(fc.property(fc.array(fc.oneof(harmless, genuineSet, setLocal, unresettable), { minLength: 1, maxLength: 6 }),
      fc.array(separator, { minLength: 1, maxLength: 3 }), (statements, seps) => {
        const text = statements.map((s, i) => `${s.text}${seps[i % seps.length] ?? ';'}`).join('');
        const lexed = lexStatements(text, true);
        expect(lexed.unterminated).toBe(false);
        expect(lexed.statements.map((s) => text.slice(s.start, s.end))).toEqual(statements.map((s) => s.text));
      }), { numRuns: 500 });
  });

  it('keeps exactly the genuine SETs, whatever hides in literals and comments and however the bytes are split', () => {
    fc.assert(fc.property(fc.array(fc.oneof(harmless, genuineSet, setLocal), { minLength: 1, maxLength: 6 }),
      fc.array(separator, { minLength: 1, maxLength: 3 }), fc.array(fc.nat(100_000), { maxLength: 3 }), (statements, seps, cuts) => {
        const t = run(statements, seps, cuts);
        const expected = new Map<string, string>();
        for (const s of statements) {
          if (!s.set) continue;
          const key = /fz\.k\d+/.exec(s.set)?.[0] as string;
          expected.delete(key);
          expected.set(key, s.set);
        }
        expect(t.unhealable).toBeUndefined();
        expect(t.replayText()).toBe([...expected.values()].join(';\n'));
        expect(t.reusable).toBe(true);
      }), { numRuns: 500 });
  });

  it('the reuse guard refuses exactly the sessions that ran a statement a reset cannot undo', () => {
    fc.assert(fc.property(fc.array(fc.oneof(harmless, genuineSet, unresettable), { minLength: 1, maxLength: 6 }),
      fc.array(separator, { minLength: 1, maxLength: 3 }), fc.array(fc.nat(100_000), { maxLength: 3 }), (statements, seps, cuts) => {
        const t = run(statements, seps, cuts);
        expect(t.reusable).toBe(!statements.some((s) => s.guard));
        if (statements.some((s) => s.guard)) expect(t.unhealable).toBeDefined();
      }), { numRuns: 500 });
  });
});
