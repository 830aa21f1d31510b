/**
 * --max-connections: a client over the limit (per listener, or across listeners) is refused with an
 * ErrorResponse 53300 carrying a message and a hint, written before the connection closes; a slot freed by a
 * closing session is given to the next client.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startProxy } from '../../src/proxy/proxy.js';
import { firstError, pgClient, rawExchange } from '../support/clients.js';
import { startStack, targetFor } from '../support/stack.js';
import type { Stack } from '../support/stack.js';
import { startupMessage } from './startup-bytes.js';

let stack: Stack;

beforeAll(async () => {
  stack = await startStack();
});

afterAll(async () => {
  await stack?.stop();
});

describe('connection limits', () => {
  it('refuses the client over a listener\'s limit with 53300, a message and a hint, then admits the next', async () => {
    const p = await startProxy({
      listeners: [{ host: '127.0.0.1', port: 0, maxConnections: 2, target: targetFor(stack.bed, stack.emulator) }],
      startupTimeoutMs: 10_000, connectTimeoutMs: 5_000, maxStartupPacket: 10_000, logLevel: 'debug',
    }, stack.log);
    try {
      const port = p.addresses[0]?.port as number;
      const held = [pgClient(port, 'limit_a'), pgClient(port, 'limit_b')];
      for (const c of held) await c.connect();
      const over = pgClient(port, 'limit_c');
      const err = await over.connect().then(() => undefined, (e: unknown) => e as { code?: string; message: string; hint?: string });
      expect(err).toMatchObject({ code: '53300', message: expect.stringMatching(/too many connections: .* 2 sessions at once on 127\.0\.0\.1:\d+/) as unknown,
        hint: expect.stringMatching(/--max-connections/) as unknown });
      // The same refusal seen on the wire, decoded independently: an ErrorResponse before the close.
      const raw = await rawExchange(port, startupMessage({ user: 'raw', database: 'dev' }), 5_000);
      expect(raw.closed).toBe(true);
      expect(firstError(raw.data)).toMatchObject({ S: 'FATAL', C: '53300' });
      await held[0]?.end();
      await expect.poll(() => p.listeners[0]?.activeConnections).toBe(1);
      const next = pgClient(port, 'limit_d');
      await next.connect();
      expect((await next.query('select 1 as one')).rows[0]).toEqual({ one: 1 });
      await next.end();
      await held[1]?.end();
    } finally {
      await p.close();
    }
  });

  it('applies the global limit across listeners', async () => {
    const target = targetFor(stack.bed, stack.emulator);
    const p = await startProxy({
      listeners: [{ host: '127.0.0.1', port: 0, target }, { host: '127.0.0.1', port: 0, target }],
      startupTimeoutMs: 10_000, connectTimeoutMs: 5_000, maxStartupPacket: 10_000, logLevel: 'debug', maxConnections: 1,
    }, stack.log);
    try {
      const first = pgClient(p.addresses[0]?.port as number, 'global_a');
      await first.connect();
      const second = pgClient(p.addresses[1]?.port as number, 'global_b');
      await expect(second.connect()).rejects.toMatchObject({ code: '53300', message: expect.stringMatching(/1 sessions at once in total/) as unknown });
      await first.end();
    } finally {
      await p.close();
    }
  });
});
