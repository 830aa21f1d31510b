/**
 * What one lexed statement means to session tracking: a session setting (replayable once confirmed), a
 * transaction command, a SQL prepared statement, nothing at all — or something whose effect on the session the
 * proxy cannot prove (set_config(), DO, CALL, LISTEN, SET ROLE, temporary tables, statements it does not know),
 * which makes the session non-healable. `resettable` says whether RESET ALL / RESET ROLE / RESET SESSION
 * AUTHORIZATION still return the connection to a fresh login's state (then it may serve another client).
 */
import type { LexedStatement, Token } from './sql-lexer.js';

export type StatementKind =
  | { readonly k: 'other' }
  /** SET name … for the session: `text` is replayed on a new connection. */
  | { readonly k: 'setting'; readonly key: string; readonly text: string }
  /** RESET name, SET name TO DEFAULT: back to the login's value. */
  | { readonly k: 'reset'; readonly key: string }
  | { readonly k: 'reset-all' }
  /** SET LOCAL, SET TRANSACTION, SET CONSTRAINTS, DISCARD PLANS/SEQUENCES/TEMP: nothing to keep. */
  | { readonly k: 'local' }
  | { readonly k: 'begin' }
  | { readonly k: 'commit'; readonly chain: boolean }
  | { readonly k: 'rollback'; readonly chain: boolean }
  | { readonly k: 'rollback-to'; readonly savepoint: string }
  | { readonly k: 'savepoint'; readonly name: string }
  | { readonly k: 'release'; readonly name: string }
  | { readonly k: 'prepare'; readonly name: string; readonly text: string }
  | { readonly k: 'deallocate'; readonly name: string }
  | { readonly k: 'deallocate-all' }
  | { readonly k: 'discard-all' }
  | { readonly k: 'unprovable'; readonly why: string; readonly resettable: boolean };

export const OTHER: StatementKind = { k: 'other' };

/** CommandComplete tags (first word) that change what the tracker keeps: they must come from a statement of that kind. */
const ACTION_TAG = /^(?:SET|RESET|BEGIN|START|COMMIT|ROLLBACK|SAVEPOINT|RELEASE|PREPARE|DEALLOCATE|DISCARD|LISTEN)(?: |$)/;

/** True when the server's CommandComplete tag is what this kind of statement answers (or changes nothing). */
export function tagFits(kind: StatementKind, tag: string): boolean {
  if (kind.k === 'other') return !ACTION_TAG.test(tag);
  const space = tag.indexOf(' ');
  const word = space < 0 ? tag : tag.slice(0, space);
  switch (kind.k) {
    case 'setting': case 'reset': case 'reset-all': return word === 'SET' || word === 'RESET';
    case 'local': return word === 'SET' || word === 'RESET' || word === 'DISCARD';
    case 'begin': return word === 'BEGIN' || word === 'START';
    case 'commit': return word === 'COMMIT' || word === 'ROLLBACK';
    case 'rollback': case 'rollback-to': return word === 'ROLLBACK';
    case 'savepoint': return word === 'SAVEPOINT';
    case 'release': return word === 'RELEASE';
    case 'prepare': return word === 'PREPARE';
    case 'deallocate': case 'deallocate-all': return word === 'DEALLOCATE';
    case 'discard-all': return word === 'DISCARD';
    case 'unprovable': return true;
    default: {
      const never: never = kind;
      throw new Error(`unknown statement kind ${String(never)}`);
    }
  }
}

/** Leading keywords of statements that change nothing the session would have to rebuild (their calls are checked). */
const HARMLESS = new Set(['SELECT', 'WITH', 'VALUES', 'TABLE', 'INSERT', 'UPDATE', 'DELETE', 'MERGE', 'COPY', 'EXPLAIN',
  'SHOW', 'CREATE', 'ALTER', 'DROP', 'TRUNCATE', 'GRANT', 'REVOKE', 'COMMENT', 'ANALYZE', 'ANALYSE', 'VACUUM', 'REINDEX',
  'CLUSTER', 'REFRESH', 'LOCK', 'NOTIFY', 'UNLISTEN', 'FETCH', 'MOVE', 'CLOSE', 'DECLARE', 'CHECKPOINT', 'SECURITY',
  'IMPORT', 'REASSIGN', 'UNLOAD', 'EXECUTE', 'CANCEL']);
/** Functions that change the session itself: set_config (checked by its first argument), session locks, links. */
const SESSION_FUNCTIONS = new Map<string, string>([
  ['pg_advisory_lock', 'an advisory lock'], ['pg_advisory_lock_shared', 'an advisory lock'],
  ['pg_try_advisory_lock', 'an advisory lock'], ['pg_try_advisory_lock_shared', 'an advisory lock'],
  ['dblink_connect', 'a dblink connection'], ['dblink_connect_u', 'a dblink connection'],
]);
const IDENTITY = new Set(['role', 'session_authorization', 'is_superuser']);

const unprovable = (why: string, resettable = false): StatementKind => ({ k: 'unprovable', why, resettable });
const TEMP_TABLE = unprovable('a temporary table');
const IDENTITY_CHANGE = unprovable('SET ROLE / SET SESSION AUTHORIZATION');

const isWord = (t: Token | undefined, w: string): boolean => t !== undefined && t.kind === 'word' && t.text === w;

export function classify(statement: LexedStatement, source: string): StatementKind {
  const t = statement.tokens;
  const first = t[0];
  const scanned = scanCalls(t);
  if (scanned) return scanned;
  if (!first) return OTHER;
  if (first.kind === 'op' && first.text === '(') return OTHER;
  if (first.kind !== 'word') return unprovable(`a statement the proxy does not know`);
  const text = (): string => source.slice(statement.start, statement.end);
  switch (first.text) {
    case 'SET': return classifySet(t, text(), statement.truncated);
    case 'RESET': return classifyReset(t);
    case 'BEGIN': return { k: 'begin' };
    case 'START': return isWord(t[1], 'TRANSACTION') ? { k: 'begin' } : unprovable('START without TRANSACTION');
    case 'COMMIT': case 'END':
      if (isWord(t[1], 'PREPARED')) return OTHER;
      return { k: 'commit', chain: chained(t) };
    case 'ROLLBACK': case 'ABORT': {
      if (isWord(t[1], 'PREPARED')) return OTHER;
      const to = t.findIndex((x) => isWord(x, 'TO'));
      if (to < 0) return { k: 'rollback', chain: chained(t) };
      const name = isWord(t[to + 1], 'SAVEPOINT') ? t[to + 2] : t[to + 1];
      return name ? { k: 'rollback-to', savepoint: identifier(name) } : unprovable('ROLLBACK TO without a name');
    }
    case 'SAVEPOINT': return t[1] ? { k: 'savepoint', name: identifier(t[1]) } : OTHER;
    case 'RELEASE': {
      const name = isWord(t[1], 'SAVEPOINT') ? t[2] : t[1];
      return name ? { k: 'release', name: identifier(name) } : OTHER;
    }
    case 'PREPARE':
      if (isWord(t[1], 'TRANSACTION')) return unprovable('PREPARE TRANSACTION');
      return t[1] ? { k: 'prepare', name: identifier(t[1]), text: text() } : OTHER;
    case 'DEALLOCATE': {
      const name = isWord(t[1], 'PREPARE') ? t[2] : t[1];
      if (!name || isWord(name, 'ALL')) return { k: 'deallocate-all' };
      return { k: 'deallocate', name: identifier(name) };
    }
    case 'DISCARD': return isWord(t[1], 'ALL') ? { k: 'discard-all' } : { k: 'local' };
    case 'LISTEN': return unprovable('LISTEN');
    case 'DO': return unprovable('a DO block');
    case 'CALL': return unprovable('a procedure call');
    case 'LOAD': return unprovable('a loaded library');
    case 'DECLARE': return t.some((x, i) => isWord(x, 'WITH') && isWord(t[i + 1], 'HOLD')) ? unprovable('a cursor WITH HOLD') : OTHER;
    case 'CREATE': {
      let i = 1;
      if (isWord(t[i], 'OR') && isWord(t[i + 1], 'REPLACE')) i += 2;
      if (isWord(t[i], 'GLOBAL') || isWord(t[i], 'LOCAL')) i++;
      return isWord(t[i], 'TEMP') || isWord(t[i], 'TEMPORARY') ? TEMP_TABLE : OTHER;
    }
    default:
      return HARMLESS.has(first.text) ? OTHER : unprovable(`a statement the proxy does not know (${first.text})`);
  }
}

function classifySet(t: readonly Token[], text: string, truncated: boolean): StatementKind {
  const setting = (key: string, tokens: readonly Token[], valueAt: number, source: string): StatementKind =>
    settingOf(key, tokens, valueAt, source, truncated);
  let i = 1;
  if (isWord(t[i], 'LOCAL')) return { k: 'local' };
  if (isWord(t[i], 'SESSION')) {
    if (isWord(t[i + 1], 'AUTHORIZATION')) return IDENTITY_CHANGE;
    if (isWord(t[i + 1], 'CHARACTERISTICS')) return setting('session characteristics', t, i + 2, text);
    i++;
  }
  const name = t[i];
  if (!name) return unprovable('SET without a name');
  if (isWord(name, 'ROLE') || isWord(name, 'AUTHORIZATION')) return IDENTITY_CHANGE;
  if (isWord(name, 'SESSION') && isWord(t[i + 1], 'AUTHORIZATION')) return IDENTITY_CHANGE;
  if (isWord(name, 'TRANSACTION') || isWord(name, 'CONSTRAINTS')) return { k: 'local' };
  if (isWord(name, 'TIME') && isWord(t[i + 1], 'ZONE')) return setting('timezone', t, i + 2, text);
  if (isWord(name, 'SCHEMA')) return setting('search_path', t, i + 1, text);
  if (isWord(name, 'NAMES')) return setting('client_encoding', t, i + 1, text);
  if (isWord(name, 'XML') && isWord(t[i + 1], 'OPTION')) return setting('xmloption', t, i + 2, text);
  if (name.kind !== 'word' && name.kind !== 'quoted') return unprovable('SET of something the proxy does not know');
  // A setting name may be qualified (a custom setting: myapp.tenant).
  let key = identifier(name);
  let at = i + 1;
  while (t[at]?.kind === 'op' && t[at]?.text === '.' && t[at + 1]) {
    key += `.${identifier(t[at + 1] as Token)}`;
    at += 2;
  }
  if (IDENTITY.has(key)) return IDENTITY_CHANGE;
  if (isWord(t[at], 'TO') || (t[at]?.kind === 'op' && t[at]?.text === '=')) at++;
  return setting(key, t, at, text);
}

function settingOf(key: string, t: readonly Token[], valueAt: number, text: string, truncated: boolean): StatementKind {
  if (t.length === valueAt + 1 && (isWord(t[valueAt], 'DEFAULT') || (key === 'timezone' && isWord(t[valueAt], 'LOCAL')))) {
    return { k: 'reset', key };
  }
  // A literal with a backslash may read differently under standard_conforming_strings on and off: replayed on a
  // connection where it differs, it would mean something else. Such a setting is not replayed.
  const backslash = truncated ? text.includes('\\') : t.some((v) => v.kind === 'string' && v.text.includes('\\'));
  if (backslash) return unprovable('a setting whose value has a backslash', true);
  return { k: 'setting', key, text };
}

function classifyReset(t: readonly Token[]): StatementKind {
  const name = t[1];
  if (!name) return unprovable('RESET without a name');
  if (isWord(name, 'ALL')) return { k: 'reset-all' };
  if (isWord(name, 'ROLE')) return { k: 'reset', key: 'role' };
  if (isWord(name, 'SESSION') && isWord(t[2], 'AUTHORIZATION')) return { k: 'reset', key: 'session_authorization' };
  if (isWord(name, 'TIME') && isWord(t[2], 'ZONE')) return { k: 'reset', key: 'timezone' };
  let key = identifier(name);
  for (let at = 2; t[at]?.kind === 'op' && t[at]?.text === '.' && t[at + 1]; at += 2) key += `.${identifier(t[at + 1] as Token)}`;
  return { k: 'reset', key };
}

/** COMMIT/ROLLBACK … AND CHAIN (but not AND NO CHAIN): a new transaction starts at once. */
function chained(t: readonly Token[]): boolean {
  const c = t.findIndex((x) => isWord(x, 'CHAIN'));
  return c > 0 && !isWord(t[c - 1], 'NO');
}

/**
 * Anywhere in a statement: calls of functions that change the session, temporary tables made by SELECT … INTO
 * TEMP, in pg_temp or as Redshift's #name.
 */
function scanCalls(t: readonly Token[]): StatementKind | undefined {
  for (let i = 0; i < t.length; i++) {
    const x = t[i] as Token;
    if (x.kind === 'word' || x.kind === 'quoted') {
      const name = x.kind === 'word' ? x.text.toLowerCase() : x.text;
      const next = t[i + 1];
      if (next?.kind === 'op' && next.text === '(') {
        if (name === 'set_config') return setConfig(t[i + 2], t[i + 3]);
        const what = SESSION_FUNCTIONS.get(name);
        if (what) return unprovable(what);
      }
      if (name.startsWith('pg_temp')) return TEMP_TABLE;
      if (isWord(x, 'INTO') && (isWord(next, 'TEMP') || isWord(next, 'TEMPORARY'))) {
        const before = t[i - 1];
        if (!isWord(before, 'INSERT') && !isWord(before, 'MERGE')) return TEMP_TABLE;
      }
    } else if (x.kind === 'op' && x.text.endsWith('#')) {
      const next = t[i + 1];
      if (next && (next.kind === 'word' || next.kind === 'quoted') && next.start === x.start + x.text.length) return TEMP_TABLE;
    }
  }
  return undefined;
}

/** set_config('name', …): any setting is undone by the reset before reuse, except the identity ones. */
function setConfig(arg: Token | undefined, after: Token | undefined): StatementKind {
  const literal = arg?.kind === 'string' && arg.text.startsWith("'") && after?.kind === 'op' && after.text === ','
    ? arg.text.slice(1, -1).replace(/''/g, "'").toLowerCase() : undefined;
  if (literal === undefined || IDENTITY.has(literal) || literal.includes('\\')) return unprovable('set_config() of a setting the proxy cannot name or reset');
  return unprovable('set_config()', true);
}

/** An identifier as PostgreSQL folds it: unquoted names lower-cased (ASCII letters only), quoted ones as written. */
export function identifier(t: Token): string {
  if (t.kind === 'word') return asciiLower(t.text);
  return t.text;
}

export function asciiLower(s: string): string {
  return /[^\x00-\x7f]/.test(s) ? s.replace(/[A-Z]+/g, (m) => m.toLowerCase()) : s.toLowerCase();
}
