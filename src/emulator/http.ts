/**
 * The HTTP plumbing the emulator's front shares: reading a bounded body, answering with AWS's headers, waiting.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ApiFault } from './faults.js';
import { JSON_CONTENT_TYPE } from './json-protocol.js';
import type { Protocol } from './types.js';

/** Control-plane requests are a few hundred bytes; anything near this is a test bug, not a request. */
const MAX_BODY_BYTES = 1024 * 1024;

export function send(res: ServerResponse, status: number, protocol: Protocol, body: string, requestId: string,
  extra: Record<string, string> = {}): void {
  if (res.headersSent || res.destroyed) return;
  res.writeHead(status, {
    'content-type': protocol === 'json' ? JSON_CONTENT_TYPE : 'text/xml',
    'content-length': Buffer.byteLength(body),
    'x-amzn-requestid': requestId,
    ...extra,
  });
  res.end(body);
}

export function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v.join(',') : v;
}

export async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buf = chunk as Buffer;
    size += buf.length;
    if (size > MAX_BODY_BYTES) throw new ApiFault('RequestEntityTooLarge', 413, 'Request body too large.');
    chunks.push(buf);
  }
  return Buffer.concat(chunks);
}

export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
  });
}
