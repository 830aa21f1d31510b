/**
 * The checks before /quitquitquit and /reload, on the request fields they read. (The refusals of a foreign Host
 * and cross-origin pages over real HTTP are in test/ops/lifecycle.test.ts; a peer that is not loopback cannot be
 * made on this machine's loopback-only test network, so that one rule is checked here alone.)
 */
import type http from 'node:http';
import { describe, expect, it } from 'vitest';
import { guardLocalChange, isLoopbackAddress } from '../../src/admin/request-guard.js';

function req(remoteAddress: string, headers: http.IncomingHttpHeaders): http.IncomingMessage {
  return { socket: { remoteAddress }, headers } as unknown as http.IncomingMessage;
}

describe('guardLocalChange', () => {
  it('admits loopback peers that name loopback', () => {
    for (const [peer, host] of [['127.0.0.1', '127.0.0.1:9090'], ['::1', '[::1]:9090'], ['::ffff:127.0.0.1', 'localhost:9090'],
      ['127.0.0.5', 'localhost']]) {
      expect(guardLocalChange(req(peer as string, { host })), `${peer} ${host}`).toEqual({ ok: true });
    }
    expect(guardLocalChange(req('127.0.0.1', { host: '127.0.0.1:9090', origin: 'http://127.0.0.1:9090', 'sec-fetch-site': 'same-origin' })))
      .toEqual({ ok: true });
  });

  it('refuses other peers, other Hosts, a missing Host and cross-site requests', () => {
    expect(guardLocalChange(req('10.1.2.3', { host: '127.0.0.1:9090' }))).toMatchObject({ ok: false, status: 403 });
    expect(guardLocalChange(req('127.0.0.1', { host: '10.1.2.3:9090' }))).toMatchObject({ ok: false, reason: /Host/ });
    expect(guardLocalChange(req('127.0.0.1', { host: 'rebind.example:9090' }))).toMatchObject({ ok: false });
    expect(guardLocalChange(req('127.0.0.1', {}))).toMatchObject({ ok: false });
    expect(guardLocalChange(req('127.0.0.1', { host: '127.0.0.1:9090', origin: 'http://127.0.0.1:8080' }))).toMatchObject({ ok: false });
    expect(guardLocalChange(req('127.0.0.1', { host: '127.0.0.1:9090', origin: 'null' }))).toMatchObject({ ok: false });
    expect(guardLocalChange(req('127.0.0.1', { host: '127.0.0.1:9090', 'sec-fetch-site': 'same-site' }))).toMatchObject({ ok: false });
  });

  it('knows loopback addresses', () => {
    expect(['127.0.0.1', '127.255.0.9', '::1', '::ffff:127.0.0.1'].every(isLoopbackAddress)).toBe(true);
    expect(['0.0.0.0', '::', '10.0.0.1', '::ffff:10.0.0.1', 'localhost', undefined].some(isLoopbackAddress)).toBe(false);
  });
});
