import { describe, expect, it } from 'vitest';
import { FrameScanner } from '../../src/protocol/frame-scanner.js';

/** A walker that reads ReadyForQuery's status, as session tracking does. */
function walker(): FrameScanner & { lastStatus: number } {
  const w = Object.assign(new FrameScanner({ Z: 1 }, (_type, data, start) => {
    w.lastStatus = data?.[start] ?? 0;
  }), { lastStatus: 0 });
  return w;
}

// DataRow 'D' (len 11: int16 1 col, int32 1, 'x'), CommandComplete 'C' "SELECT 1\0", ReadyForQuery 'Z' 'T'.
const STREAM = Buffer.from('44' + '0000000b' + '0001' + '00000001' + '78' +
  '43' + '0000000d' + Buffer.from('SELECT 1\0').toString('hex') + '5a' + '00000005' + '54', 'hex');

describe('FrameScanner as the relay walks', () => {
  it('knows message boundaries and the transaction status whatever the chunking', () => {
    for (let a = 0; a <= STREAM.length; a++) {
      for (let b = a; b <= STREAM.length; b++) {
        const t = walker();
        t.observe(STREAM.subarray(0, a));
        t.observe(STREAM.subarray(a, b));
        t.observe(STREAM.subarray(b));
        expect(t.atBoundary).toBe(true);
        expect(t.frames).toBe(3);
        expect(String.fromCharCode(t.lastStatus)).toBe('T');
      }
    }
  });

  it('reports mid-frame positions', () => {
    for (let cut = 1; cut < STREAM.length; cut++) {
      const t = walker();
      t.observe(STREAM.subarray(0, cut));
      const boundaries = [0, 12, 26, STREAM.length];
      expect(t.atBoundary).toBe(boundaries.includes(cut));
    }
  });

  it('with stopAtError, stops where an ErrorResponse starts, whatever the chunking', () => {
    // DataRow, then ErrorResponse 'E' (len 4 + "SFATAL\0\0"), then nothing: the stop is at offset 12.
    const error = Buffer.concat([Buffer.from('45', 'hex'), Buffer.from('0000000c', 'hex'), Buffer.from('SFATAL\0\0')]);
    const stream = Buffer.concat([STREAM.subarray(0, 12), error]);
    for (let cut = 0; cut <= 12; cut++) {
      const t = walker();
      expect(t.observe(stream.subarray(0, cut), true)).toBe(-1);
      expect(t.observe(stream.subarray(cut), true)).toBe(12 - cut);
      expect(t.atBoundary).toBe(true);
      expect(t.frames).toBe(1);
    }
    // Without it, the error is followed like any frame.
    const plain = walker();
    expect(plain.observe(stream)).toBe(-1);
    expect(plain.frames).toBe(2);
  });
});
