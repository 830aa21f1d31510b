/**
 * Generators of adversarial SQL pieces: string literals (plain, E'' with escapes, dollar-quoted with tags), quoted
 * identifiers and nested comments, each hiding `;`, SET, SET ROLE, LISTEN or set_config() text.
 */
import fc from 'fast-check';

/** Text a hostile client hides inside literals, identifiers and comments. */
export const PAYLOADS = ['; SET search_path = evil, public; ', "; SET ROLE r1; ", '; LISTEN secretchan; ',
  "'; select set_config('role','r1',false); --", '*/ ; SET x = 1; /*', '$$ ; SET y = 2 ; $$', '"; SET z = 3; "',
  '\\', "\\'", '--', '\n', ';', '$a$', '$', '/*', '*/', "''", '""'];
export const payload = fc.array(fc.constantFrom(...PAYLOADS), { maxLength: 4 }).map((p) => p.join(''));

export const plainLiteral = payload.map((p) => `'${p.replace(/'/g, "''")}'`);
export const escapeLiteral = payload.map((p) => `E'${p.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`);
export const dollarQuoted = fc.tuple(fc.constantFrom('', 'tag', 'q1'), payload)
  .filter(([tag, p]) => !p.includes(`$${tag}$`))
  .map(([tag, p]) => `$${tag}$${p}$${tag}$`);
export const quotedIdent = payload.map((p) => `"${p.replace(/"/g, '""')}"`);
export const nestedComment = payload.map((p) => `/* ${p.replace(/\/\*|\*\//g, ' ')} /* inner ${p.replace(/\/\*|\*\//g, ' ')} */ */`);
export const lineComment = payload.map((p) => `-- ${p.replace(/[\r\n]/g, ' ')}\n`);
export const item = fc.oneof(plainLiteral, escapeLiteral, dollarQuoted, quotedIdent, fc.constantFrom('1', 'a', 'col_2', '$1'));
export const gap = fc.oneof(fc.constant(' '), fc.constant('\n'), nestedComment.map((c) => ` ${c} `), lineComment);

