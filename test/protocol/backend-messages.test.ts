import { describe, expect, it } from 'vitest';
import { AUTHENTICATION_OK, backendKeyData, errorResponse, negotiateProtocolVersion, parameterStatus,
  readyForQuery } from '../../src/protocol/backend-messages.js';
import { cancelRequest, SSL_REQUEST, startupMessage } from '../../src/protocol/frontend-messages.js';
import { decodeErrorFields } from '../../src/protocol/error-fields.js';

// Expected bytes written by hand from https://www.postgresql.org/docs/current/protocol-message-formats.html
const hex = (s: string): string => s.replace(/\s+/g, '');

describe('messages the proxy writes', () => {
  it('AuthenticationOk, ParameterStatus, BackendKeyData, ReadyForQuery', () => {
    expect(AUTHENTICATION_OK.toString('hex')).toBe(hex('52 00000008 00000000'));
    expect(parameterStatus('a', 'b').toString('hex')).toBe(hex('53 00000008 6100 6200'));
    expect(backendKeyData(1, -1).toString('hex')).toBe(hex('4b 0000000c 00000001 ffffffff'));
    expect(readyForQuery(0x49).toString('hex')).toBe(hex('5a 00000005 49'));
  });

  it('NegotiateProtocolVersion lists the unrecognised options', () => {
    expect(negotiateProtocolVersion(0, ['_pq_.x']).toString('hex'))
      .toBe(hex('76 00000013 00000000 00000001') + Buffer.from('_pq_.x\0').toString('hex'));
  });

  it('ErrorResponse carries severity, code, message, detail and hint, and round-trips', () => {
    const e = errorResponse({ severity: 'FATAL', code: '28000', message: 'm', detail: 'd', hint: 'h' });
    const body = Buffer.from('S' + 'FATAL\0' + 'V' + 'FATAL\0' + 'C' + '28000\0' + 'M' + 'm\0' + 'D' + 'd\0' + 'H' + 'h\0' + '\0');
    expect(e.subarray(0, 1).toString()).toBe('E');
    expect(e.readInt32BE(1)).toBe(4 + body.length);
    expect(e.subarray(5).toString('hex')).toBe(body.toString('hex'));
    expect(decodeErrorFields(e.subarray(5))).toEqual({ severity: 'FATAL', code: '28000', message: 'm', detail: 'd', hint: 'h' });
  });

  it('SSLRequest, CancelRequest and StartupMessage to the upstream', () => {
    expect(SSL_REQUEST.toString('hex')).toBe(hex('00000008 04d2162f'));
    expect(cancelRequest(7, -2).toString('hex')).toBe(hex('00000010 04d2162e 00000007 fffffffe'));
    const body = Buffer.from('user\0IAM:x\0database\0dev\0\0');
    expect(startupMessage(new Map([['user', 'IAM:x'], ['database', 'dev']])).toString('hex'))
      .toBe((8 + body.length).toString(16).padStart(8, '0') + '00030000' + body.toString('hex'));
  });
});

import { CancelKeys } from '../../src/proxy/cancel-keys.js';
import { FakeClock } from '../support/fake-clock.js';

describe('cancel keys', () => {
  it('issues random keys, matches only the right secret, and bounds cancels per second', async () => {
    const clock = new FakeClock();
    const keys = new CancelKeys(3, clock);
    const endpoint = { host: 'h', port: 1, connectTimeoutMs: 1 };
    const a = keys.register({ upstreamKey: { processId: 9, secretKey: 9 }, endpoint });
    const b = keys.register({ upstreamKey: { processId: 8, secretKey: 8 }, endpoint });
    expect(a.processId).not.toBe(b.processId);
    expect(keys.lookup(a.processId, a.secretKey)?.upstreamKey).toEqual({ processId: 9, secretKey: 9 });
    expect(keys.lookup(a.processId, a.secretKey ^ 1)).toBeUndefined();
    expect(keys.lookup(a.processId ^ 1, a.secretKey)).toBeUndefined();
    keys.release(a.processId);
    expect(keys.lookup(a.processId, a.secretKey)).toBeUndefined();
    expect([keys.admit('a'), keys.admit('b'), keys.admit('c'), keys.admit('d')]).toEqual([true, true, true, false]);
    await clock.advance(1_100);
    expect(keys.admit('d')).toBe(true);
  });

  it('bounds valid cancels per source address: one address spending its bucket does not stop another', async () => {
    const clock = new FakeClock();
    const keys = new CancelKeys(1_000, clock);
    const first = Array.from({ length: 25 }, () => keys.admit('10.0.0.1'));
    expect(first.filter(Boolean)).toHaveLength(20);
    expect(keys.admit('10.0.0.2')).toBe(true);
    await clock.advance(1_000);
    expect(Array.from({ length: 12 }, () => keys.admit('10.0.0.1')).filter(Boolean)).toHaveLength(10);
  });
});
