import { describe, expect, it } from 'vitest';
import { FrameBoundary } from '../../src/proxy/frame-boundary.js';

// DataRow 'D' (len 11: int16 1 col, int32 1, 'x'), CommandComplete 'C' "SELECT 1\0", ReadyForQuery 'Z' 'T'.
const STREAM = Buffer.from('44' + '0000000b' + '0001' + '00000001' + '78' +
  '43' + '0000000d' + Buffer.from('SELECT 1\0').toString('hex') + '5a' + '00000005' + '54', 'hex');

describe('FrameBoundary', () => {
  it('knows message boundaries and the transaction status whatever the chunking', () => {
    for (let a = 0; a <= STREAM.length; a++) {
      for (let b = a; b <= STREAM.length; b++) {
        const t = new FrameBoundary();
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
      const t = new FrameBoundary();
      t.observe(STREAM.subarray(0, cut));
      const boundaries = [0, 12, 26, STREAM.length];
      expect(t.atBoundary).toBe(boundaries.includes(cut));
    }
  });
});
