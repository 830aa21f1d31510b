import { describe, expect, it } from 'vitest';
import { FrameError, FrameReader } from '../../src/protocol/frame-reader.js';
import { decodeStartupPacket } from '../../src/protocol/startup-packet.js';

// Reference bytes written out by hand from the protocol chapter, independent of the code under test.
// SSLRequest: length 8, code 1234<<16 | 5679 = 0x04d2162f.
const SSL_REQUEST = Buffer.from('00000008' + '04d2162f', 'hex');
// GSSENCRequest: 1234<<16 | 5680 = 0x04d21630.
const GSSENC_REQUEST = Buffer.from('00000008' + '04d21630', 'hex');
// CancelRequest: length 16, code 1234<<16 | 5678 = 0x04d2162e, pid 42, secret -2.
const CANCEL_REQUEST = Buffer.from('00000010' + '04d2162e' + '0000002a' + 'fffffffe', 'hex');
// StartupMessage 3.0: user=bob, database=dev, then the terminating empty name.
const STARTUP_BODY = Buffer.from('00030000' + Buffer.from('user\0bob\0database\0dev\0\0').toString('hex'), 'hex');
const STARTUP = Buffer.concat([Buffer.from((4 + STARTUP_BODY.length).toString(16).padStart(8, '0'), 'hex'), STARTUP_BODY]);

function framesOf(bytes: Buffer, splitAt: number[]): Buffer[] {
  const reader = new FrameReader(10_000);
  const out: Buffer[] = [];
  let prev = 0;
  for (const cut of [...splitAt, bytes.length]) {
    reader.push(bytes.subarray(prev, cut));
    prev = cut;
    for (let f = reader.nextUntyped(); f; f = reader.nextUntyped()) out.push(Buffer.from(f.body));
  }
  return out;
}

describe('startup-phase framing and decoding', () => {
  it('decodes SSLRequest, GSSENCRequest and CancelRequest', () => {
    expect(decodeStartupPacket(SSL_REQUEST.subarray(4))).toEqual({ kind: 'ssl' });
    expect(decodeStartupPacket(GSSENC_REQUEST.subarray(4))).toEqual({ kind: 'gssenc' });
    expect(decodeStartupPacket(CANCEL_REQUEST.subarray(4))).toEqual({ kind: 'cancel', processId: 42, secretKey: -2 });
  });

  it('decodes a StartupMessage with its parameters in order', () => {
    const p = decodeStartupPacket(STARTUP.subarray(4));
    expect(p).toMatchObject({ kind: 'startup', major: 3, minor: 0 });
    expect(p.kind === 'startup' && [...p.params]).toEqual([['user', 'bob'], ['database', 'dev']]);
  });

  it('frames an SSLRequest followed by a StartupMessage split at every byte boundary', () => {
    const stream = Buffer.concat([SSL_REQUEST, STARTUP]);
    for (let cut = 0; cut <= stream.length; cut++) {
      const frames = framesOf(stream, [cut]);
      expect(frames.map((f) => f.toString('hex'))).toEqual([SSL_REQUEST.subarray(4).toString('hex'), STARTUP_BODY.toString('hex')]);
    }
  });

  it('delivers frames when every byte arrives on its own', () => {
    const stream = Buffer.concat([GSSENC_REQUEST, SSL_REQUEST, STARTUP]);
    const cuts = Array.from({ length: stream.length - 1 }, (_, i) => i + 1);
    expect(framesOf(stream, cuts)).toHaveLength(3);
  });

  it('refuses lengths that are too small or beyond the limit before buffering them', () => {
    const reader = new FrameReader(10_000);
    reader.push(Buffer.from('00000003', 'hex'));
    expect(() => reader.nextUntyped()).toThrow(FrameError);
    const big = new FrameReader(10_000);
    big.push(Buffer.from('7fffffff', 'hex'));
    expect(() => big.nextUntyped()).toThrow(/exceeds the limit/);
  });

  it('refuses malformed parameter lists', () => {
    const unterminated = Buffer.from('00030000' + Buffer.from('user\0bob\0').toString('hex'), 'hex');
    expect(() => decodeStartupPacket(unterminated)).toThrow(FrameError);
    const noValue = Buffer.from('00030000' + Buffer.from('user').toString('hex'), 'hex');
    expect(() => decodeStartupPacket(noValue)).toThrow(FrameError);
    const trailing = Buffer.from('00030000' + Buffer.from('user\0bob\0\0x').toString('hex'), 'hex');
    expect(() => decodeStartupPacket(trailing)).toThrow(FrameError);
    const repeated = Buffer.from('00030000' + Buffer.from('user\0a\0user\0b\0\0').toString('hex'), 'hex');
    expect(() => decodeStartupPacket(repeated)).toThrow(/repeats/);
    const shortCancel = Buffer.from('04d2162e00000001', 'hex');
    expect(() => decodeStartupPacket(shortCancel)).toThrow(FrameError);
  });

  it('frames typed messages split at every boundary', () => {
    // 'Z' len 5 'I', then 'S' len 4+ "a\0b\0".
    const z = Buffer.from('5a0000000549', 'hex');
    const s = Buffer.from('5300000008' + Buffer.from('a\0b\0').toString('hex'), 'hex');
    const stream = Buffer.concat([z, s]);
    for (let cut = 0; cut <= stream.length; cut++) {
      const reader = new FrameReader(100);
      const got: string[] = [];
      reader.push(stream.subarray(0, cut));
      for (let f = reader.nextTyped(); f; f = reader.nextTyped()) got.push(f.raw.toString('hex'));
      reader.push(stream.subarray(cut));
      for (let f = reader.nextTyped(); f; f = reader.nextTyped()) got.push(f.raw.toString('hex'));
      expect(got).toEqual([z.toString('hex'), s.toString('hex')]);
    }
  });
});
