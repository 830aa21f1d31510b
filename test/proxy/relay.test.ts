/**
 * The relay's server-to-client direction on real sockets: a TLS server standing in for Redshift, the relay, and a
 * plain TCP client. A streamed result is gathered into fewer writes (the client socket corked for one event-loop
 * turn) without losing or reordering a byte, short answers are written at once, and a client that stops reading
 * stops the upstream instead of making the proxy buffer the result.
 */
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { BATCH_LIMIT, Relay } from '../../src/proxy/relay.js';
import { ClientPort } from '../../src/proxy/client-port.js';
import { createCa, issueCert } from '../support/certs.js';
import type { Ca, IssuedCert } from '../support/certs.js';

/** CopyData frames ('d', int32 length counting itself, body) of ROW bytes each, numbered in their first body bytes. */
const ROW = 258;
/** Rows per server write: 8,256 bytes, about what PostgreSQL sends at a time (8 KB). */
const ROWS_PER_WRITE = 32;
/** ReadyForQuery, idle: 'Z', length 5, 'I'. */
const READY = Buffer.from([0x5a, 0, 0, 0, 5, 0x49]);
/** Any Query message from the client; the fake server only waits for bytes. */
const QUERY = Buffer.from([0x51, 0, 0, 0, 5, 0]);

function rows(first: number, count: number): Buffer {
  const out = Buffer.alloc(ROW * count, 0x61);
  for (let i = 0; i < count; i++) {
    out[i * ROW] = 0x64;
    out.writeInt32BE(ROW - 1, i * ROW + 1);
    out.writeUInt32BE(first + i, i * ROW + 5);
  }
  return out;
}

/** Writes `writes` blocks of rows as a server would: one write at a time, waiting when the socket says so. */
async function streamRows(socket: tls.TLSSocket, writes: number, onWrite?: (block: Buffer) => void): Promise<void> {
  for (let w = 0; w < writes && !socket.destroyed; w++) {
    const block = rows(w * ROWS_PER_WRITE, ROWS_PER_WRITE);
    onWrite?.(block);
    if (!socket.write(block)) await once(socket, 'drain');
  }
}

let dir: string;
let ca: Ca;
let serverCert: IssuedCert;
const cleanups: Array<() => void> = [];

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'rap-relay-'));
  ca = await createCa(dir);
  serverCert = await issueCert(ca, dir, 'upstream', { dns: ['localhost'], ips: ['127.0.0.1'] });
});

afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

interface Wired {
  readonly relay: Relay;
  /** The proxy's side of the client connection (what the relay writes to). */
  readonly proxySide: net.Socket;
  /** The application's side of the client connection. */
  readonly app: net.Socket;
  readonly upstream: tls.TLSSocket;
}

/** A relay between a fresh client connection and a verified TLS connection to a server running `serve`. */
async function wire(serve: (socket: tls.TLSSocket) => void): Promise<Wired> {
  const server = tls.createServer({ key: serverCert.keyPem, cert: serverCert.certPem }, serve);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const front = net.createServer();
  front.listen(0, '127.0.0.1');
  await once(front, 'listening');
  cleanups.push(() => server.close(), () => front.close());

  const upstream = tls.connect({ host: '127.0.0.1', port: (server.address() as net.AddressInfo).port,
    servername: 'localhost', ca: ca.certPem });
  await once(upstream, 'secureConnect');
  const accepted = once(front, 'connection') as Promise<[net.Socket]>;
  const app = net.connect({ host: '127.0.0.1', port: (front.address() as net.AddressInfo).port });
  const [proxySide] = await accepted;
  cleanups.push(() => upstream.destroy(), () => app.destroy(), () => proxySide.destroy());
  let relay: Relay | undefined;
  const client = new ClientPort(proxySide, { gone: (reason) => relay?.clientGone(reason) });
  relay = new Relay({ client, upstream, pending: { toUpstream: Buffer.alloc(0), toClient: Buffer.alloc(0) } });
  return { relay, proxySide, app, upstream };
}

/** Resolves with the first `length` bytes the socket receives. */
function receive(socket: net.Socket, length: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    let got = 0;
    const onData = (d: Buffer): void => {
      parts.push(d);
      got += d.length;
      if (got >= length) {
        socket.off('data', onData);
        resolve(Buffer.concat(parts));
      }
    };
    socket.on('data', onData);
    socket.once('close', () => reject(new Error(`closed after ${got} of ${length} bytes`)));
  });
}

describe('Relay, server to client', () => {
  it('writes a short answer at once and gathers a streamed result into batches, every byte in order', async () => {
    const writes = 200;
    const { relay, proxySide, app, upstream } = await wire((socket) => {
      let queries = 0;
      socket.on('data', () => {
        queries++;
        if (queries === 1) socket.write(READY);
        else void streamRows(socket, writes).then(() => socket.write(READY));
      });
    });
    // Registered after the relay's own listener: sees each chunk just after the relay has written it.
    const corkedAfter: Array<{ length: number; corked: number }> = [];
    upstream.on('data', (chunk: Buffer) => corkedAfter.push({ length: chunk.length, corked: proxySide.writableCorked }));
    const cork = vi.spyOn(proxySide, 'cork');
    const uncork = vi.spyOn(proxySide, 'uncork');

    const short = receive(app, READY.length);
    app.write(QUERY);
    expect(await short).toEqual(READY);
    expect(corkedAfter).toEqual([{ length: READY.length, corked: 0 }]);

    const expected = Buffer.concat([rows(0, writes * ROWS_PER_WRITE), READY]);
    const streamed = receive(app, expected.length);
    app.write(QUERY);
    const got = await streamed;
    expect(got.length).toBe(expected.length);
    expect(got.equals(expected)).toBe(true);

    for (const c of corkedAfter) if (c.length >= 4096) expect(c.corked).toBeGreaterThan(0);
    expect(cork).toHaveBeenCalled();
    // Every cork is undone (after the turn that set it).
    await new Promise((r) => setImmediate(r));
    expect(uncork).toHaveBeenCalledTimes(cork.mock.calls.length);
    expect(proxySide.writableCorked).toBe(0);
    expect(relay.toClient.atBoundary).toBe(true);
    expect(relay.toClient.frames).toBe(2 + writes * ROWS_PER_WRITE);
  });

  it('a client that stops reading stops the upstream; the proxy holds a bounded amount, and nothing is lost', async () => {
    // More than every socket buffer between the server and the application can hold.
    const writes = Math.ceil((64 * 1024 * 1024) / (ROW * ROWS_PER_WRITE));
    const sentHash = createHash('sha256');
    let sentBytes = 0;
    let serverDone = false;
    const { app, upstream, proxySide } = await wire((socket) => {
      socket.once('data', () => {
        void streamRows(socket, writes, (block) => {
          sentHash.update(block);
          sentBytes += block.length;
        }).then(() => {
          serverDone = true;
        });
      });
    });
    let maxUnsent = 0;
    upstream.on('data', () => {
      maxUnsent = Math.max(maxUnsent, proxySide.writableLength);
    });
    app.pause();
    app.write(QUERY);

    // Wait until the server can send no more: nothing written for a while, with most of the result still to come.
    let last = -1;
    let still = 0;
    for (let polls = 0; still < 6 && polls < 400; polls++) {
      await new Promise((r) => setTimeout(r, 50));
      still = sentBytes === last && sentBytes > 0 ? still + 1 : 0;
      last = sentBytes;
    }
    expect(serverDone).toBe(false);
    expect(upstream.isPaused()).toBe(true);
    // At most the batch limit plus the chunk that crossed it (a TLS record is at most 16 KB).
    expect(maxUnsent).toBeLessThanOrEqual(BATCH_LIMIT + 16 * 1024);

    const receivedHash = createHash('sha256');
    let receivedBytes = 0;
    app.on('data', (d: Buffer) => {
      receivedHash.update(d);
      receivedBytes += d.length;
    });
    app.resume();
    const total = writes * ROWS_PER_WRITE * ROW;
    while (receivedBytes < total) await once(app, 'data');
    expect(serverDone).toBe(true);
    expect(receivedBytes).toBe(total);
    expect(receivedHash.digest('hex')).toBe(sentHash.digest('hex'));
    expect(maxUnsent).toBeLessThanOrEqual(BATCH_LIMIT + 16 * 1024);
  });
});
