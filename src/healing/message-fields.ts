/** Reading C strings (zero-terminated, latin1) inside a message body, bounded by the body's end. */

/** Where the C string at `start` ends (its zero byte), or `end` without one. */
export function zeroAt(buf: Buffer, start: number, end: number): number {
  if (start >= end) return end;
  if (buf[start] === 0) return start;
  const z = buf.indexOf(0, start);
  return z < 0 || z > end ? end : z;
}

export function cstringAt(buf: Buffer, start: number, end: number): string {
  const z = zeroAt(buf, start, end);
  return z === start ? '' : buf.toString('latin1', start, z);
}

/** A ParameterStatus body: the name, then the value. */
export function nameValue(body: Buffer, start: number, end: number): [string, string] {
  const nameEnd = zeroAt(body, start, end);
  return [cstringAt(body, start, end), cstringAt(body, nameEnd + 1, end)];
}
