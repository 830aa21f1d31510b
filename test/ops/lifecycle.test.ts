/**
 * The sidecar lifecycle of the real executable: `wait` exits 0 once /readyz answers 200 (and 1 at its timeout when
 * nothing is ready); readiness turns false the moment shutdown starts, while open sessions still finish;
 * POST /quitquitquit from loopback begins that shutdown and exits 0, and is refused to a foreign Host, a
 * cross-origin page and GET; --exit-zero-on-sigterm makes SIGTERM exit 0.
 */
import net from 'node:net';
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pgClient } from '../support/clients.js';
import { startStack } from '../support/stack.js';
import type { Stack } from '../support/stack.js';
import { listeningPorts, runCli, stackArgs } from './cli-process.js';
import type { CliProcess } from './cli-process.js';

let stack: Stack;

beforeAll(async () => {
  stack = await startStack();
});

afterAll(async () => {
  await stack?.stop();
});

async function opsPort(p: CliProcess): Promise<number> {
  await p.waitForStderr(/"msg":"operations endpoint/);
  return Number(p.logs(/^operations endpoint/)[0]?.port);
}

/** A raw HTTP request, so the test controls Host and Origin exactly. */
function request(port: number, method: string, path: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path, headers, setHost: !('host' in headers) }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => {
        body += d.toString();
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.once('error', reject);
    req.end();
  });
}

/** A port nothing listens on: bound, then closed. */
async function deadPort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise((resolve) => s.close(resolve));
  return port;
}

describe('sidecar lifecycle', () => {
  it('wait exits 0 once the proxy is ready, found through --http-listen or its environment variable', async () => {
    const p = runCli(['--listen', '127.0.0.1:0', ...stackArgs(stack), '--db-user', 'waiter', '--http-listen', '127.0.0.1:0']);
    const port = await opsPort(p);
    const w = runCli(['wait', '--http-listen', `127.0.0.1:${port}`, '--timeout', '20']);
    expect(await w.exit, w.stderr()).toBe(0);
    expect(w.stdout()).toMatch(/^ready: http:\/\/127\.0\.0\.1:\d+\/readyz/);
    const viaEnv = runCli(['wait'], { ...process.env, REDSHIFT_AUTH_PROXY_HTTP_LISTEN: String(port) });
    expect(await viaEnv.exit, viaEnv.stderr()).toBe(0);
    p.child.kill('SIGTERM');
    expect(await p.exit).toBe(143);
  });

  it('wait exits 1 at its timeout when nothing answers, and 2 without an endpoint to ask', async () => {
    const port = await deadPort();
    const w = runCli(['wait', '--http-listen', `127.0.0.1:${port}`, '--timeout', '0.6']);
    expect(await w.exit).toBe(1);
    expect(w.stderr()).toMatch(/not ready after 0\.6 s .*ECONNREFUSED/);
    const env = { ...process.env };
    delete env.REDSHIFT_AUTH_PROXY_HTTP_LISTEN;
    const none = runCli(['wait'], env);
    expect(await none.exit).toBe(2);
    expect(none.stderr()).toMatch(/--http-listen/);
  });

  it('turns unready the moment SIGTERM arrives while a running query still completes', async () => {
    const p = runCli(['--listen', '127.0.0.1:0', ...stackArgs(stack), '--http-listen', '127.0.0.1:0', '--shutdown-grace', '20']);
    const [port] = [...(await listeningPorts(p)).values()];
    const ops = await opsPort(p);
    expect((await request(ops, 'GET', '/readyz')).status).toBe(200);
    const client = pgClient(port as number, 'lingering');
    await client.connect();
    const query = client.query('select pg_sleep(1) as slept, 7 as answer');
    p.child.kill('SIGTERM');
    await p.waitForStderr(/"msg":"shutting down/);
    const during = await request(ops, 'GET', '/readyz');
    expect(during.status).toBe(503);
    expect(JSON.parse(during.body)).toMatchObject({ ready: false, shuttingDown: true });
    const w = runCli(['wait', '--http-listen', `127.0.0.1:${ops}`, '--timeout', '0.5']);
    expect(await w.exit).toBe(1);
    expect(w.stderr()).toMatch(/shutting down/);
    expect((await query).rows[0]).toMatchObject({ answer: 7 });
    await client.end();
    expect(await p.exit).toBe(143);
  });

  it('POST /quitquitquit from loopback shuts down and exits 0; a foreign Host, a cross-origin page and GET are refused', async () => {
    const p = runCli(['--listen', '127.0.0.1:0', ...stackArgs(stack), '--http-listen', '127.0.0.1:0']);
    const ops = await opsPort(p);
    expect(await request(ops, 'GET', '/quitquitquit')).toMatchObject({ status: 405 });
    expect(await request(ops, 'POST', '/quitquitquit', { host: `attacker.example:${ops}` })).toMatchObject({ status: 403 });
    expect(await request(ops, 'POST', '/quitquitquit', { origin: 'http://attacker.example' })).toMatchObject({ status: 403 });
    expect(await request(ops, 'POST', '/quitquitquit', { 'sec-fetch-site': 'cross-site' })).toMatchObject({ status: 403 });
    expect((await request(ops, 'GET', '/readyz')).status).toBe(200);
    const quit = await request(ops, 'POST', '/quitquitquit', { host: `localhost:${ops}` });
    expect(quit.status).toBe(200);
    expect(await p.exit).toBe(0);
    expect(p.logs(/^refused \/quitquitquit/)).toHaveLength(3);
    expect(p.logs(/^shutting down/)).toEqual([expect.objectContaining({ signal: '/quitquitquit' })]);
  });

  it('--exit-zero-on-sigterm exits 0 after SIGTERM; SIGINT still exits 130', async () => {
    const p = runCli(['--listen', '127.0.0.1:0', ...stackArgs(stack), '--exit-zero-on-sigterm']);
    await listeningPorts(p);
    p.child.kill('SIGTERM');
    expect(await p.exit).toBe(0);
    const q = runCli(['--listen', '127.0.0.1:0', ...stackArgs(stack), '--exit-zero-on-sigterm']);
    await listeningPorts(q);
    q.child.kill('SIGINT');
    expect(await q.exit).toBe(130);
  });
});
