/**
 * Statement kinds of one Query or Parse text, cheaply where it can be: a text with no `;` before its end holds at
 * most one statement, and one whose first word is a plain query keyword and that mentions nothing the tracker
 * looks for (session functions, temporary tables) changes nothing tracked — no lexing needed. Everything else is
 * lexed; while standard_conforming_strings is not known, the text must split the same way under both readings.
 */
import { MAX_TOKENS, lexStatements } from './sql-lexer.js';
import type { LexResult } from './sql-lexer.js';
import { OTHER, classify } from './statement-kinds.js';
import type { StatementKind } from './statement-kinds.js';

/** Words that send a single statement to the lexer even when its first word is harmless. */
const SUSPICIOUS = /set_config|advisory|dblink|pg_temp|#|hold|temp/i;
/** Enough tokens for every leading-keyword rule in statement-kinds.ts. */
const FEW_TOKENS = 16;
const FIRST_WORD = /^[ \t\r\n]*([A-Za-z]+)[ \t\r\n(]/;
/** First words of statements that, without a suspicious word, change nothing tracked. */
const PLAIN = new Set(['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'WITH', 'VALUES', 'SHOW', 'EXPLAIN', 'FETCH', 'COPY',
  'MOVE', 'TABLE', 'MERGE', 'EXECUTE']);

/** The kinds of the statements in order, or undefined when the text's meaning depends on an unknown setting. */
export function classifyText(text: string, scs: boolean | undefined): StatementKind[] | undefined {
  const semi = text.indexOf(';');
  if ((semi < 0 || /^[;\s]*$/.test(text.slice(semi))) && !SUSPICIOUS.test(text)) {
    const word = FIRST_WORD.exec(text)?.[1];
    if (word !== undefined && PLAIN.has(word.toUpperCase())) return [OTHER];
  }
  // Without a suspicious word, a statement is classified by its first tokens: the rest need not be kept.
  const maxTokens = SUSPICIOUS.test(text) ? MAX_TOKENS : FEW_TOKENS;
  const lexed = lexStatements(text, scs ?? true, maxTokens);
  if (scs === undefined && !sameSplit(lexed, lexStatements(text, false, FEW_TOKENS))) return undefined;
  return lexed.statements.map((s) => classify(s, text));
}

function sameSplit(a: LexResult, b: LexResult): boolean {
  if (a.unterminated !== b.unterminated || a.statements.length !== b.statements.length) return false;
  return a.statements.every((s, i) => s.start === b.statements[i]?.start && s.end === b.statements[i]?.end);
}
