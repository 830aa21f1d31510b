/**
 * Graceful shutdown of the real executable: SIGTERM stops accepting at once while a running query completes;
 * sessions still open when --shutdown-grace runs out get 57P01; a second signal exits now; SIGINT exits 130.
 */
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pgClient } from '../support/clients.js';
import { startStack } from '../support/stack.js';
import type { Stack } from '../support/stack.js';
import { listeningPorts, runCli, stackArgs } from './cli-process.js';

let stack: Stack;

beforeAll(async () => {
  stack = await startStack();
});

afterAll(async () => {
  await stack?.stop();
});

/** Resolves once PostgreSQL itself is running the statement: the query is in flight through the proxy. */
async function untilRunning(sqlPrefix: string): Promise<void> {
  for (;;) {
    const r = await stack.bed.superuserQuery(
      "select count(*)::int as n from pg_stat_activity where state = 'active' and query like $1", [`${sqlPrefix}%`]);
    if ((r[0] as { n: number }).n > 0) return;
    await new Promise((resolve) => setImmediate(resolve));
  }
}

function connectOutcome(port: number): Promise<string> {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.destroy();
      resolve('connected');
    });
    s.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
  });
}

describe('graceful shutdown of the executable', () => {
  it('lets a running query finish after SIGTERM, refuses new connections, and exits 143', async () => {
    const p = runCli(['--listen', '127.0.0.1:0', ...stackArgs(stack), '--shutdown-grace', '20']);
    const [port] = [...(await listeningPorts(p)).values()];
    const client = pgClient(port as number, 'sleeper');
    await client.connect();
    const query = client.query('select pg_sleep(2) as slept, 42 as answer');
    await untilRunning('select pg_sleep(2)');
    p.child.kill('SIGTERM');
    await p.waitForStderr(/"msg":"shutting down/);
    expect(await connectOutcome(port as number)).toBe('ECONNREFUSED');
    const result = await query;
    expect(result.rows[0]).toMatchObject({ answer: 42 });
    await client.end();
    expect(await p.exit).toBe(143);
    // (After the client's Terminate, whichever socket closes first is reported: client or upstream.)
    expect(p.logs('session ended'), p.stderr()).toEqual([expect.objectContaining({ user: 'sleeper',
      closedBy: expect.stringMatching(/^(client|upstream)$/) as unknown })]);
  });

  it('closes sessions still open when the grace period ends with 57P01', async () => {
    const p = runCli(['--listen', '127.0.0.1:0', ...stackArgs(stack), '--shutdown-grace', '1']);
    const [port] = [...(await listeningPorts(p)).values()];
    const client = pgClient(port as number, 'lingerer');
    // The ErrorResponse comes first; the end of the connection may be reported after it.
    const error = new Promise<Error & { code?: string }>((resolve) => client.on('error', resolve));
    await client.connect();
    await client.query('select 1');
    p.child.kill('SIGTERM');
    const err = await error;
    expect(err.code).toBe('57P01');
    expect(err.message).toMatch(/shutting down/);
    expect(await p.exit).toBe(143);
    await client.end().catch(() => undefined);
  });

  it('exits at once on a second signal', async () => {
    const p = runCli(['--listen', '127.0.0.1:0', ...stackArgs(stack), '--shutdown-grace', '60']);
    const [port] = [...(await listeningPorts(p)).values()];
    const client = pgClient(port as number, 'stayer');
    client.on('error', () => undefined);
    await client.connect();
    p.child.kill('SIGTERM');
    await p.waitForStderr(/"msg":"shutting down/);
    const started = Date.now();
    p.child.kill('SIGTERM');
    expect(await p.exit).toBe(143);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(p.stderr()).toMatch(/second signal: exiting now/);
    await client.end().catch(() => undefined);
  });

  it('exits 130 on SIGINT', async () => {
    const p = runCli(['--listen', '127.0.0.1:0', ...stackArgs(stack)]);
    await listeningPorts(p);
    p.child.kill('SIGINT');
    expect(await p.exit).toBe(130);
    for (const pw of stack.issuedPasswords) expect(p.stderr()).not.toContain(pw);
  });
});
