/**
 * The smallest PostgreSQL login there is, on a raw socket, so that "connect latency" times the path and not a
 * client library: TCP connect → (SSLRequest → verified TLS) → StartupMessage → (md5 password) → ReadyForQuery.
 * The same code logs in through every path; the sessions it opens can also be held idle for the memory test.
 * https://www.postgresql.org/docs/current/protocol-flow.html#PROTOCOL-FLOW-START-UP
 */
import { createHash } from 'node:crypto';
import net from 'node:net';
import tls from 'node:tls';

export interface WireTarget {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly database: string;
  /** Verified TLS, as libpq's `sslmode=verify-full`: the CA to trust and the name the certificate must carry. */
  readonly tls?: { readonly ca: string; readonly servername: string };
  readonly password?: string;
}

export interface WireSession {
  /** Milliseconds from the start of the TCP connect to ReadyForQuery. */
  readonly ms: number;
  /** Milliseconds from the start of the TCP connect to the ReadyForQuery after `query` (= ms without one). */
  readonly totalMs: number;
  /** Runs a simple query, reading (and dropping) its rows; resolves with the milliseconds until ReadyForQuery. */
  query(sql: string): Promise<number>;
  /** Sends Terminate and closes. */
  close(): void;
}

/** SSLRequest: length 8, then the magic code 80877103. */
const SSL_REQUEST = Buffer.from([0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f]);
/** Terminate: 'X', length 4. */
const TERMINATE = Buffer.from([0x58, 0, 0, 0, 4]);
/** Authentication request codes (the int32 after 'R'). */
const AUTH_OK = 0;
const AUTH_CLEARTEXT = 3;
const AUTH_MD5 = 5;

export interface OpenOptions {
  readonly timeoutMs?: number;
  /**
   * A simple query to run once logged in (not timed). pgbouncer assigns a server connection only at a client's
   * first query; the memory test runs one so every path holds the same thing: a session with a live upstream.
   */
  readonly query?: string;
}

export async function openSession(t: WireTarget, { timeoutMs = 15_000, query }: OpenOptions = {}): Promise<WireSession> {
  const started = performance.now();
  let ms = 0;
  let totalMs = 0;
  let socket: net.Socket = net.connect({ host: t.host, port: t.port, noDelay: true });
  const timer = setTimeout(() => socket.destroy(new Error(`login to ${t.host}:${t.port} took over ${timeoutMs} ms`)), timeoutMs);
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    if (t.tls) socket = await startTls(socket, t.tls);
    socket.write(startupMessage(t.user, t.database));
    await untilReady(socket, t);
    ms = performance.now() - started;
    if (query !== undefined) {
      socket.write(queryMessage(query));
      await untilReady(socket, t);
    }
    totalMs = performance.now() - started;
  } catch (err) {
    socket.destroy();
    throw err;
  } finally {
    clearTimeout(timer);
  }
  // Idle from here on: whatever else arrives (a NOTICE, a shutdown message) is read and dropped.
  socket.on('data', () => undefined);
  socket.on('error', () => undefined);
  const runQuery = async (sql: string): Promise<number> => {
    const begun = performance.now();
    socket.write(queryMessage(sql));
    await untilReady(socket, t);
    return performance.now() - begun;
  };
  return { ms, totalMs, query: runQuery, close: () => socket.end(TERMINATE) };
}

async function startTls(socket: net.Socket, opts: { ca: string; servername: string }): Promise<tls.TLSSocket> {
  socket.write(SSL_REQUEST);
  const answer = await new Promise<Buffer>((resolve, reject) => {
    socket.once('data', resolve);
    socket.once('error', reject);
  });
  if (answer[0] !== 0x53 /* 'S' */ || answer.length !== 1) throw new Error('the server refused TLS');
  const secure = tls.connect({ socket, ca: opts.ca, servername: opts.servername, rejectUnauthorized: true });
  await new Promise<void>((resolve, reject) => {
    secure.once('secureConnect', resolve);
    secure.once('error', reject);
  });
  return secure;
}

/** Reads frames until ReadyForQuery, answering a password request; rejects on ErrorResponse or close. */
function untilReady(socket: net.Socket, t: WireTarget): Promise<void> {
  return new Promise((resolve, reject) => {
    let buffered: Buffer = Buffer.alloc(0);
    const done = (err?: Error): void => {
      socket.off('data', onData);
      socket.off('error', done);
      socket.off('close', onClose);
      if (err) reject(err);
      else resolve();
    };
    const onClose = (): void => done(new Error('the server closed the connection during login'));
    const onData = (chunk: Buffer): void => {
      buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk]);
      // Frame: type byte, int32 length that counts itself but not the type.
      while (buffered.length >= 5) {
        const length = buffered.readInt32BE(1);
        if (buffered.length < 1 + length) return;
        const type = buffered[0];
        const body = buffered.subarray(5, 1 + length);
        buffered = buffered.subarray(1 + length);
        if (type === 0x45 /* 'E' */) return done(new Error(`the server refused: ${errorMessage(body)}`));
        if (type === 0x5a /* 'Z' */) return done();
        if (type === 0x52 /* 'R' */) {
          const code = body.readInt32BE(0);
          if (code === AUTH_OK) continue;
          if (t.password === undefined) return done(new Error(`the server asked for a password (auth ${code})`));
          if (code === AUTH_MD5) socket.write(passwordMessage(md5Password(t.user, t.password, body.subarray(4, 8))));
          else if (code === AUTH_CLEARTEXT) socket.write(passwordMessage(t.password));
          else return done(new Error(`authentication method ${code} is not supported by the bench client`));
        }
      }
    };
    socket.on('data', onData);
    socket.once('error', done);
    socket.once('close', onClose);
  });
}

/** StartupMessage: int32 length, int32 protocol 3.0, then name/value C strings and a final NUL (no type byte). */
function startupMessage(user: string, database: string): Buffer {
  const params = Buffer.from(`user\0${user}\0database\0${database}\0application_name\0bench\0\0`, 'utf8');
  const head = Buffer.alloc(8);
  head.writeInt32BE(8 + params.length, 0);
  head.writeInt32BE(3 << 16, 4);
  return Buffer.concat([head, params]);
}

/** PasswordMessage: 'p', int32 length, the password as a C string. */
function passwordMessage(password: string): Buffer {
  return stringMessage(0x70, password);
}

/** Query: 'Q', int32 length, the SQL as a C string. */
function queryMessage(sql: string): Buffer {
  return stringMessage(0x51, sql);
}

function stringMessage(type: number, value: string): Buffer {
  const text = Buffer.from(`${value}\0`, 'utf8');
  const head = Buffer.alloc(5);
  head[0] = type;
  head.writeInt32BE(4 + text.length, 1);
  return Buffer.concat([head, text]);
}

/** 'md5' + md5(md5(password + user) + salt), as PostgreSQL's md5 method expects. */
function md5Password(user: string, password: string, salt: Buffer): string {
  const inner = createHash('md5').update(password + user, 'utf8').digest('hex');
  return `md5${createHash('md5').update(Buffer.concat([Buffer.from(inner, 'utf8'), salt])).digest('hex')}`;
}

/** The 'M' (message) field of an ErrorResponse body. */
function errorMessage(body: Buffer): string {
  let i = 0;
  while (i < body.length && body[i] !== 0) {
    const end = body.indexOf(0, i + 1);
    if (body[i] === 0x4d /* 'M' */) return body.toString('utf8', i + 1, end);
    i = end + 1;
  }
  return 'no message';
}
