/**
 * openUpstream opens the TLS connection while the credential is looked up. Against the real test bed, reached
 * through a forwarder that reports when each connection arrives and ends, with the emulator answering slowly so
 * the connection is ready before the credential is.
 */
import net from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CredentialCache } from '../../src/credentials/credential-cache.js';
import { ClientError } from '../../src/protocol/client-error.js';
import { openUpstream } from '../../src/target/open-upstream.js';
import { Target } from '../../src/target/target.js';
import { quoteIdent } from '../../src/emulator/index.js';
import { startStack, targetFor } from '../support/stack.js';
import type { Stack } from '../support/stack.js';

let stack: Stack;
const caches: CredentialCache[] = [];
const forwarders: net.Server[] = [];

beforeAll(async () => {
  stack = await startStack();
});

beforeEach(() => {
  stack.emulator.resetCounters();
  stack.emulator.setDelay(0);
});

afterAll(async () => {
  for (const c of caches) c.close();
  for (const f of forwarders) f.close();
  await stack?.stop();
});

interface Forwarded {
  /** Whether the credential call had completed when this connection arrived. */
  readonly credentialReadyAtArrival: boolean;
  readonly closed: Promise<void>;
}

/** A target whose upstream is a forwarder to the bed, and what that forwarder saw. */
async function observedTarget(): Promise<{ target: Target; seen: Forwarded[]; arrived: Promise<void> }> {
  let apiCallsDone = 0;
  const cache = new CredentialCache({ onApiCall: () => apiCallsDone++ });
  caches.push(cache);
  const seen: Forwarded[] = [];
  let onArrival: () => void = () => undefined;
  const arrived = new Promise<void>((r) => { onArrival = r; });
  const server = net.createServer((client) => {
    const upstream = net.connect({ host: '127.0.0.1', port: stack.bed.port });
    const closed = new Promise<void>((r) => client.once('close', () => r()));
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
    client.pipe(upstream).pipe(client);
    client.once('close', () => upstream.destroy());
    upstream.once('close', () => client.destroy());
    seen.push({ credentialReadyAtArrival: apiCallsDone > 0, closed });
    onArrival();
  });
  forwarders.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  // The certificate names localhost, which is what the proxy checks; the forwarder only passes bytes on.
  const target = new Target(targetFor(stack.bed, stack.emulator, { upstreamHost: 'localhost', upstreamPort: port }), cache, 5_000);
  return { target, seen, arrived };
}

const params = (user: string): Map<string, string> => new Map([['user', user], ['database', 'dev']]);

describe('connection and credential in parallel', () => {
  it('opens the connection before the credential arrives, then logs in with it', async () => {
    const { target, seen } = await observedTarget();
    stack.emulator.setDelay(300);
    const session = await openUpstream(target, params('parallel'), new AbortController().signal);
    try {
      expect(session.dbUser).toBe('IAMA:parallel');
      expect(seen).toHaveLength(1);
      expect(seen[0]?.credentialReadyAtArrival).toBe(false);
      expect(stack.emulator.calls.GetClusterCredentials).toBe(1);
    } finally {
      session.socket.destroy();
    }
  });

  it('reports a credential failure, and closes the connection opened meanwhile without logging in', async () => {
    const { target, seen, arrived } = await observedTarget();
    stack.emulator.setDelay(200);
    stack.emulator.inject({ action: 'GetClusterCredentials', times: 1,
      error: { code: 'UnauthorizedOperation', status: 403, message: 'not allowed for this test' } });
    const err = await openUpstream(target, params('unlucky'), new AbortController().signal).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ClientError);
    expect((err as ClientError).message).toMatch(/credential|not allowed/i);
    await arrived;
    await seen[0]?.closed;
    expect(seen).toHaveLength(1);
    expect(await stack.bed.readLog()).not.toMatch(/connection authorized: user=IAMA:unlucky/);
  });

  it('retries a credential the server refuses with a new credential on a new connection', async () => {
    const { target, seen } = await observedTarget();
    const first = await openUpstream(target, params('altered'), new AbortController().signal);
    first.socket.destroy();
    // Someone changes the password behind the proxy's back: the cached credential no longer works.
    await stack.bed.superuserQuery(`ALTER ROLE ${quoteIdent(first.dbUser)} PASSWORD 'changed-behind-the-proxy'`);
    const second = await openUpstream(target, params('altered'), new AbortController().signal);
    second.socket.destroy();
    expect(stack.emulator.calls.GetClusterCredentials).toBe(2);
    expect(seen).toHaveLength(3);
    await seen[1]?.closed;
  });
});
