/**
 * Splits simple-query text into statements the way PostgreSQL's scanner does, so that a `;` inside a string
 * literal, a quoted identifier, a dollar quote or a comment never ends a statement, and reports the few tokens the
 * session tracker classifies statements by. It knows (see https://www.postgresql.org/docs/current/sql-syntax-lexical.html):
 * - '…' literals with '' doubling; backslash escapes in them only when standard_conforming_strings is off;
 *   E'…' always has backslash escapes; B'…', X'…', N'…', U&'…' are ordinary literals;
 * - $tag$…$tag$ dollar quotes (a tag is an identifier without `$`; `$1` is a parameter, not a quote);
 * - "…" quoted identifiers with "" doubling (and U&"…");
 * - -- comments to the end of the line and /* … *\/ comments, which nest as in PostgreSQL;
 * - parentheses: a `;` inside them does not end a statement (CREATE RULE … DO (a; b)).
 * The text is read one character per byte (latin1), as the server's scanner reads bytes: every byte of a multibyte
 * UTF-8 character is above 0x7F and so an identifier character, never a quote or a separator.
 */

export type TokenKind = 'word' | 'quoted' | 'string' | 'param' | 'number' | 'op';

export interface Token {
  readonly kind: TokenKind;
  /** word: upper-cased; quoted: the identifier without quotes; string: the literal's source text; op: the chars. */
  readonly text: string;
  readonly start: number;
}

export interface LexedStatement {
  /** Offsets into the text: from the first token to the end of the last (comments and blanks around excluded). */
  readonly start: number;
  readonly end: number;
  readonly tokens: readonly Token[];
  /** Some tokens were not kept (see maxTokens). */
  readonly truncated: boolean;
}

export interface LexResult {
  readonly statements: readonly LexedStatement[];
  /** The text ends inside a literal, quoted identifier, dollar quote or comment (the server refuses it). */
  readonly unterminated: boolean;
}

/** Tokens kept per statement unless the caller asks for fewer (the rest is scanned but not stored). */
export const MAX_TOKENS = 4096;

const isIdentStart = (c: number): boolean => (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || c === 0x5f || c >= 0x80;
const isIdentChar = (c: number): boolean => isIdentStart(c) || (c >= 0x30 && c <= 0x39) || c === 0x24;
const isDigit = (c: number): boolean => c >= 0x30 && c <= 0x39;
const isSpace = (c: number): boolean => c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d || c === 0x0c || c === 0x0b;
/** Characters PostgreSQL's scanner reads as operators. */
const OPS = new Set('+-*/<>=~!@#%^&|`?'.split('').map((c) => c.charCodeAt(0)));

export function lexStatements(text: string, standardConformingStrings: boolean, maxTokens = MAX_TOKENS): LexResult {
  const statements: LexedStatement[] = [];
  const n = text.length;
  let tokens: Token[] = [];
  let truncated = false;
  let start = -1;
  let end = 0;
  let depth = 0;
  let i = 0;
  /** Records a token from `at` to `to`; its text (by default the source) is only made when it is kept. */
  const push = (kind: TokenKind, value: string | undefined, at: number, to: number): void => {
    if (start < 0) start = at;
    end = to;
    if (tokens.length < maxTokens) tokens.push({ kind, text: value ?? text.slice(at, to), start: at });
    else truncated = true;
  };
  const finish = (): void => {
    if (start >= 0) statements.push({ start, end, tokens, truncated });
    tokens = [];
    truncated = false;
    start = -1;
    depth = 0;
  };
  /** Index after a '…' literal whose opening quote is at q; -1 when unterminated. */
  const literalEnd = (q: number, backslashes: boolean): number => {
    let j = q + 1;
    if (!backslashes) {
      for (;;) {
        const close = text.indexOf("'", j);
        if (close < 0) return -1;
        if (text.charCodeAt(close + 1) !== 0x27) return close + 1;
        j = close + 2;
      }
    }
    while (j < n) {
      const c = text.charCodeAt(j);
      if (c === 0x5c) j += 2;
      else if (c === 0x27) {
        if (text.charCodeAt(j + 1) === 0x27) j += 2;
        else return j + 1;
      } else j++;
    }
    return -1;
  };
  while (i < n) {
    const c = text.charCodeAt(i);
    if (isSpace(c)) {
      i++;
      continue;
    }
    if (c === 0x2d && text.charCodeAt(i + 1) === 0x2d) { // -- comment
      const nl = text.indexOf('\n', i);
      const cr = text.indexOf('\r', i);
      const stop = nl < 0 ? cr : cr < 0 ? nl : Math.min(nl, cr);
      if (stop < 0) break; // a comment to the end of the text is complete
      i = stop + 1;
      continue;
    }
    if (c === 0x2f && text.charCodeAt(i + 1) === 0x2a) { // /* comment, nesting
      let level = 1;
      let j = i + 2;
      while (j < n && level > 0) {
        const d = text.charCodeAt(j);
        if (d === 0x2f && text.charCodeAt(j + 1) === 0x2a) {
          level++;
          j += 2;
        } else if (d === 0x2a && text.charCodeAt(j + 1) === 0x2f) {
          level--;
          j += 2;
        } else j++;
      }
      if (level > 0) return unterminated(statements, start, end, tokens, truncated);
      i = j;
      continue;
    }
    if (c === 0x3b) { // ;
      if (depth === 0) finish();
      else push('op', ';', i, i + 1);
      i++;
      continue;
    }
    if (c === 0x27) { // '…'
      const to = literalEnd(i, !standardConformingStrings);
      if (to < 0) return unterminated(statements, start, end, tokens, truncated);
      push('string', undefined, i, to);
      i = to;
      continue;
    }
    if (c === 0x22) { // "…"
      let j = i + 1;
      let name = '';
      for (;;) {
        const q = text.indexOf('"', j);
        if (q < 0) return unterminated(statements, start, end, tokens, truncated);
        name += text.slice(j, q);
        if (text.charCodeAt(q + 1) === 0x22) {
          name += '"';
          j = q + 2;
        } else {
          j = q + 1;
          break;
        }
      }
      push('quoted', name, i, j);
      i = j;
      continue;
    }
    if (c === 0x24) { // $1, $tag$…$tag$
      if (isDigit(text.charCodeAt(i + 1))) {
        let j = i + 1;
        while (j < n && isDigit(text.charCodeAt(j))) j++;
        push('param', undefined, i, j);
        i = j;
        continue;
      }
      let j = i + 1;
      if (j < n && isIdentStart(text.charCodeAt(j))) {
        while (j < n && isIdentChar(text.charCodeAt(j)) && text.charCodeAt(j) !== 0x24) j++;
      }
      if (text.charCodeAt(j) === 0x24) {
        const tag = text.slice(i, j + 1);
        const close = text.indexOf(tag, j + 1);
        if (close < 0) return unterminated(statements, start, end, tokens, truncated);
        push('string', undefined, i, close + tag.length);
        i = close + tag.length;
        continue;
      }
      push('op', '$', i, i + 1);
      i++;
      continue;
    }
    if (isIdentStart(c)) {
      let j = i + 1;
      while (j < n && isIdentChar(text.charCodeAt(j))) j++;
      const next = text.charCodeAt(j);
      if (next === 0x27 && j - i === 1 && /[eEbBxXnN]/.test(text[i] as string)) { // E'…', B'…', X'…', N'…'
        const to = literalEnd(j, c === 0x65 || c === 0x45 || !standardConformingStrings);
        if (to < 0) return unterminated(statements, start, end, tokens, truncated);
        push('string', undefined, i, to);
        i = to;
        continue;
      }
      if (next === 0x26 && j - i === 1 && (c === 0x75 || c === 0x55)) { // U&'…', U&"…"
        const q = text.charCodeAt(j + 1);
        if (q === 0x27) {
          const to = literalEnd(j + 1, !standardConformingStrings);
          if (to < 0) return unterminated(statements, start, end, tokens, truncated);
          push('string', undefined, i, to);
          i = to;
          continue;
        }
        if (q === 0x22) {
          i = j + 1; // lexed as a quoted identifier next round (its Unicode escapes do not matter here)
          continue;
        }
      }
      push('word', tokens.length < maxTokens ? asciiUpper(text.slice(i, j)) : '', i, j);
      i = j;
      continue;
    }
    if (isDigit(c) || (c === 0x2e && isDigit(text.charCodeAt(i + 1)))) {
      let j = i + 1;
      while (j < n && (isIdentChar(text.charCodeAt(j)) || text.charCodeAt(j) === 0x2e)) j++;
      push('number', undefined, i, j);
      i = j;
      continue;
    }
    if (c === 0x28) depth++;
    else if (c === 0x29 && depth > 0) depth--;
    if (OPS.has(c)) {
      // An operator runs until a character that cannot continue it; "--" and "/*" inside start comments.
      let j = i + 1;
      while (j < n && OPS.has(text.charCodeAt(j)) && !(text.charCodeAt(j) === 0x2d && text.charCodeAt(j + 1) === 0x2d)
        && !(text.charCodeAt(j) === 0x2f && text.charCodeAt(j + 1) === 0x2a)) j++;
      push('op', undefined, i, j);
      i = j;
      continue;
    }
    push('op', text[i] as string, i, i + 1);
    i++;
  }
  finish();
  return { statements, unterminated: false };
}

function unterminated(statements: LexedStatement[], start: number, end: number, tokens: Token[], truncated: boolean): LexResult {
  return { statements: start >= 0 ? [...statements, { start, end, tokens, truncated }] : statements, unterminated: true };
}

/** Upper-cases ASCII letters only, as PostgreSQL matches keywords (a Latin-1 'ß' must not become "SS"). */
function asciiUpper(s: string): string {
  return /[^\x00-\x7f]/.test(s) ? s.replace(/[a-z]+/g, (m) => m.toUpperCase()) : s.toUpperCase();
}
