/**
 * Protocol bytes built and read by hand, independently of the proxy's own builders and parsers, so that a bug in
 * those cannot hide itself in the tests that attack them.
 * https://www.postgresql.org/docs/current/protocol-message-formats.html
 */

/** Request codes of the untyped startup-phase frames (the int32 after the length word). */
export const Code = {
  /** 3.0: major 3 in the high 16 bits. */
  Protocol3: 0x0003_0000,
  /** 1234.5679 */
  SSLRequest: 0x04d2_162f,
  /** 1234.5680 */
  GSSENCRequest: 0x04d2_1630,
  /** 1234.5678 */
  CancelRequest: 0x04d2_162e,
} as const;

export function int32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeInt32BE(n | 0, 0);
  return b;
}

export function int16(n: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeInt16BE(n | 0, 0);
  return b;
}

/** A NUL-terminated string. */
export function cstr(s: string): Buffer {
  return Buffer.concat([Buffer.from(s, 'utf8'), Buffer.of(0)]);
}

/** An untyped frame: int32 length (counting itself), then the body. */
export function untyped(body: Buffer): Buffer {
  return Buffer.concat([int32(body.length + 4), body]);
}

/** StartupMessage: version word, then name\0value\0 pairs (in order, repeats allowed), then \0. */
export function startupMessage(params: ReadonlyArray<readonly [string, string]>, version: number = Code.Protocol3): Buffer {
  return untyped(Buffer.concat([int32(version), ...params.flatMap(([k, v]) => [cstr(k), cstr(v)]), Buffer.of(0)]));
}

export const SSL_REQUEST = untyped(int32(Code.SSLRequest));
export const GSSENC_REQUEST = untyped(int32(Code.GSSENCRequest));

export function cancelRequest(processId: number, secretKey: number): Buffer {
  return untyped(Buffer.concat([int32(Code.CancelRequest), int32(processId), int32(secretKey)]));
}

/** A typed frame: one type byte, int32 length counting itself but not the type byte, then the body. */
export function typed(type: string | number, body: Buffer = Buffer.alloc(0)): Buffer {
  const code = typeof type === 'number' ? type : type.charCodeAt(0);
  return Buffer.concat([Buffer.of(code), int32(body.length + 4), body]);
}

export function query(sql: string): Buffer {
  return typed('Q', cstr(sql));
}

export const SYNC = typed('S');
export const TERMINATE = typed('X');

/** Parse (unnamed or named statement, no parameter types), Bind, Execute, Sync — the extended protocol's basics. */
export function extendedQuery(sql: string, statement = ''): Buffer {
  return Buffer.concat([
    typed('P', Buffer.concat([cstr(statement), cstr(sql), int16(0)])),
    typed('B', Buffer.concat([cstr(''), cstr(statement), int16(0), int16(0), int16(0)])),
    typed('E', Buffer.concat([cstr(''), int32(0)])),
    SYNC,
  ]);
}

/** Backend message type bytes the scanner below accepts as the start of a frame. */
const BACKEND_TYPES = new Set([...'RSKZECDTInNAtv1234scdGHWfV'].map((c) => c.charCodeAt(0)));

export interface BackendMessage {
  readonly type: string;
  readonly body: Buffer;
}

export interface BackendStream {
  /** Single-byte answers to SSLRequest / GSSENCRequest ('N' or 'S'), in the order seen. */
  readonly answers: string;
  readonly messages: readonly BackendMessage[];
  /** Bytes at the end that do not form a whole frame (the connection was cut mid-message, or a proxy bug). */
  readonly incomplete: number;
}

/**
 * Reads what a server sent on one connection: leading single-byte SSL/GSS answers, then typed frames. A byte
 * 'N' or 'S' is taken as an answer when what follows cannot be a frame header (its length word would run past the
 * data), which is how a client tells them apart too: it knows whether it asked.
 */
export function scanBackend(data: Buffer): BackendStream {
  let answers = '';
  const messages: BackendMessage[] = [];
  let at = 0;
  while (at < data.length) {
    const type = data[at] as number;
    const plausible = at + 5 <= data.length && BACKEND_TYPES.has(type) && data.readInt32BE(at + 1) >= 4
      && at + 1 + data.readInt32BE(at + 1) <= data.length;
    if (!plausible && messages.length === 0 && (type === 0x4e || type === 0x53)) {
      answers += String.fromCharCode(type);
      at++;
      continue;
    }
    if (!plausible) break;
    const len = data.readInt32BE(at + 1);
    messages.push({ type: String.fromCharCode(type), body: data.subarray(at + 5, at + 1 + len) });
    at += 1 + len;
  }
  return { answers, messages, incomplete: data.length - at };
}

/** ErrorResponse / NoticeResponse fields by their one-letter codes (S, V, C, M, D, H, …). */
export function errorFields(body: Buffer): Record<string, string> {
  const fields: Record<string, string> = {};
  let i = 0;
  while (i < body.length && body[i] !== 0) {
    const end = body.indexOf(0, i + 1);
    if (end < 0) break;
    fields[String.fromCharCode(body[i] as number)] = body.toString('utf8', i + 1, end);
    i = end + 1;
  }
  return fields;
}

/** Every ErrorResponse in a stream, decoded. */
export function errorsIn(stream: BackendStream): Array<Record<string, string>> {
  return stream.messages.filter((m) => m.type === 'E').map((m) => errorFields(m.body));
}

/** BackendKeyData as the proxy issued it on this connection, if any. */
export function backendKey(stream: BackendStream): { processId: number; secretKey: number } | undefined {
  const k = stream.messages.find((m) => m.type === 'K' && m.body.length === 8);
  return k ? { processId: k.body.readInt32BE(0), secretKey: k.body.readInt32BE(4) } : undefined;
}
