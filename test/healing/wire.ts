/**
 * Protocol messages for tracker tests, built by hand from the protocol chapter
 * (https://www.postgresql.org/docs/current/protocol-message-formats.html), independent of the code under test.
 */
import type { SessionTracker } from '../../src/healing/session-tracker.js';

export function frame(type: string, body: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeInt32BE(body.length + 4, 0);
  return Buffer.concat([Buffer.from(type), len, body]);
}
const z = (s: string): Buffer => Buffer.from(`${s}\0`, 'latin1');

// Client → server
export const query = (sql: string): Buffer => frame('Q', z(sql));
export const parse = (name: string, sql: string): Buffer => frame('P', Buffer.concat([z(name), z(sql), Buffer.from([0, 0])]));
export const bind = (portal: string, statement: string): Buffer => frame('B', Buffer.concat([z(portal), z(statement), Buffer.alloc(6)]));
export const execute = (portal: string): Buffer => frame('E', Buffer.concat([z(portal), Buffer.alloc(4)]));
export const closeStatement = (name: string): Buffer => frame('C', Buffer.concat([Buffer.from('S'), z(name)]));
export const SYNC = frame('S', Buffer.alloc(0));

// Server → client
export const complete = (tag: string): Buffer => frame('C', z(tag));
export const ready = (status: 'I' | 'T' | 'E'): Buffer => frame('Z', Buffer.from(status));
export const PARSE_COMPLETE = frame('1', Buffer.alloc(0));
export const BIND_COMPLETE = frame('2', Buffer.alloc(0));
export const CLOSE_COMPLETE = frame('3', Buffer.alloc(0));
export const EMPTY_QUERY = frame('I', Buffer.alloc(0));
export const error = (code: string, severity = 'ERROR'): Buffer =>
  frame('E', Buffer.concat([z(`S${severity}`), z(`V${severity}`), z(`C${code}`), z('Mboom'), Buffer.from([0])]));
export const parameterStatus = (name: string, value: string): Buffer => frame('S', Buffer.concat([z(name), z(value)]));

/** Feeds bytes to an observer cut at the given offsets. */
export function feed(observe: (chunk: Buffer) => void, bytes: Buffer, cuts: readonly number[] = []): void {
  let prev = 0;
  for (const c of [...cuts, bytes.length]) {
    if (c < prev) continue;
    observe(bytes.subarray(prev, c));
    prev = c;
  }
}

/** One exchange: what the client sends, then what the server answers. */
export function exchange(t: SessionTracker, client: Buffer, server: Buffer, cut?: number): void {
  feed((c) => t.fromClient.observe(c), client, cut === undefined ? [] : [cut % (client.length + 1)]);
  feed((c) => t.fromServer.observe(c), server, cut === undefined ? [] : [cut % (server.length + 1)]);
}
