/**
 * Decoding of the client's first frame: StartupMessage, SSLRequest, GSSENCRequest or CancelRequest.
 * See https://www.postgresql.org/docs/current/protocol-message-formats.html
 */
import { RequestCode } from './codes.js';
import { FrameError } from './frame-reader.js';

export type StartupPacket =
  | { readonly kind: 'ssl' }
  | { readonly kind: 'gssenc' }
  | { readonly kind: 'cancel'; readonly processId: number; readonly secretKey: number }
  | { readonly kind: 'startup'; readonly major: number; readonly minor: number; readonly params: Map<string, string> };

/** Decodes the body of an untyped frame (everything after its length word). Throws FrameError on bad input. */
export function decodeStartupPacket(body: Buffer): StartupPacket {
  const code = body.readInt32BE(0);
  switch (code) {
    case RequestCode.SSLRequest:
      return { kind: 'ssl' };
    case RequestCode.GSSENCRequest:
      return { kind: 'gssenc' };
    case RequestCode.CancelRequest:
      if (body.length !== 12) throw new FrameError('invalid CancelRequest length', true);
      return { kind: 'cancel', processId: body.readInt32BE(4), secretKey: body.readInt32BE(8) };
    default: {
      const major = code >>> 16;
      const minor = code & 0xffff;
      return { kind: 'startup', major, minor, params: decodeParams(body.subarray(4)) };
    }
  }
}

/** name\0value\0 … \0 — the list must end with an empty name. */
function decodeParams(bytes: Buffer): Map<string, string> {
  const params = new Map<string, string>();
  let at = 0;
  for (;;) {
    const nameEnd = bytes.indexOf(0, at);
    if (nameEnd < 0) throw new FrameError('startup packet parameters are not terminated');
    if (nameEnd === at) {
      if (nameEnd !== bytes.length - 1) throw new FrameError('startup packet has bytes after its terminator');
      return params;
    }
    const valueEnd = bytes.indexOf(0, nameEnd + 1);
    if (valueEnd < 0) throw new FrameError('startup packet parameter has no value');
    const name = bytes.toString('utf8', at, nameEnd);
    if (params.has(name)) throw new FrameError(`startup packet repeats the parameter "${name}"`);
    params.set(name, bytes.toString('utf8', nameEnd + 1, valueEnd));
    at = valueEnd + 1;
  }
}
