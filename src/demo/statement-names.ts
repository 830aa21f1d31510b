/**
 * Keeps the protocol-level names of prepared statements and portals of different sessions apart while they share
 * one PGlite backend: a named statement `S_1` of session 7 becomes `s7.S_1`. pgjdbc (DBeaver, DataGrip) names its
 * statements S_1, S_2… in every connection, so two connections of one tool would otherwise collide ("prepared
 * statement "S_1" already exists"). Unnamed statements and portals ("") are per exchange and stay as they are.
 *
 * Only the five messages that carry such names are rewritten; every other frame passes untouched.
 * https://www.postgresql.org/docs/current/protocol-message-formats.html (Parse, Bind, Describe, Execute, Close)
 */

import { FrontendCode } from '../protocol/codes.js';

// Parse: String statement, String query, …; Bind: String portal, String statement, …; Describe and Close: Byte1
// 'S'|'P', String name; Execute: String portal, Int32 max rows.
const { Parse, Bind, Describe, Close, Execute } = FrontendCode;

/** One C string of a message body: where it starts and ends (the index of its NUL). */
interface Field {
  readonly start: number;
  readonly end: number;
}

function cstringAt(frame: Buffer, start: number): Field {
  const end = frame.indexOf(0, start);
  if (end < 0) throw new Error('a name in a frontend message is not NUL-terminated');
  return { start, end };
}

/** Which C strings of this frame are names, by message type (body starts at offset 5). */
function nameFields(frame: Buffer): Field[] {
  switch (frame[0]) {
    case Parse:
    case Execute:
      return [cstringAt(frame, 5)];
    case Bind: {
      const portal = cstringAt(frame, 5);
      return [portal, cstringAt(frame, portal.end + 1)];
    }
    case Describe:
    case Close:
      return [cstringAt(frame, 6)];
    default:
      return [];
  }
}

/** Returns the frame with its non-empty statement and portal names prefixed by `prefix`, or the frame itself. */
export function scopeNames(frame: Buffer, prefix: string): Buffer {
  const names = nameFields(frame).filter((f) => f.end > f.start);
  if (names.length === 0) return frame;
  const insert = Buffer.from(prefix, 'utf8');
  const parts: Buffer[] = [];
  let at = 0;
  for (const name of names) {
    parts.push(frame.subarray(at, name.start), insert);
    at = name.start;
  }
  parts.push(frame.subarray(at));
  const out = Buffer.concat(parts);
  // The length word counts itself and the body, not the type byte.
  out.writeInt32BE(out.length - 1, 1);
  return out;
}
