/**
 * Real clients for end-to-end tests: node-postgres, psql, and raw sockets for hand-built protocol bytes.
 */
import { execFile } from 'node:child_process';
import net from 'node:net';
import pg from 'pg';

export function pgClient(port: number, user: string, database = 'dev', extra: Partial<pg.ClientConfig> = {}): pg.Client {
  return new pg.Client({ host: '127.0.0.1', port, user, database, ...extra });
}

/** Connects, runs fn, always ends the client. */
export async function withClient<T>(port: number, user: string, fn: (c: pg.Client) => Promise<T>, database = 'dev'): Promise<T> {
  const c = pgClient(port, user, database);
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end().catch(() => undefined);
  }
}

export interface PsqlResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs psql with a connection string and arguments; never uses a password (PGPASSWORD is cleared). */
export function psql(conninfo: string, args: string[], input?: string, timeoutMs = 30_000): Promise<PsqlResult> {
  return new Promise((resolve) => {
    const env: NodeJS.ProcessEnv = { ...process.env, PGCONNECT_TIMEOUT: '10' };
    delete env.PGPASSWORD;
    const child = execFile('psql', [conninfo, '-X', '-v', 'ON_ERROR_STOP=1', ...args], { env, timeout: timeoutMs },
      (err, stdout, stderr) => {
        const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
        resolve({ code, stdout: String(stdout), stderr: String(stderr) });
      });
    if (input !== undefined) child.stdin?.end(input);
  });
}

/** Opens a raw TCP connection, writes bytes, and collects what comes back until the server closes or timeoutMs. */
export function rawExchange(port: number, payload: Buffer | Buffer[], timeoutMs: number): Promise<{ data: Buffer; closed: boolean; ms: number }> {
  return new Promise((resolve) => {
    const started = Date.now();
    const chunks: Buffer[] = [];
    const socket = net.connect({ host: '127.0.0.1', port });
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ data: Buffer.concat(chunks), closed: false, ms: Date.now() - started });
    }, timeoutMs);
    socket.on('data', (c) => chunks.push(c));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ data: Buffer.concat(chunks), closed: true, ms: Date.now() - started });
    });
    for (const p of Array.isArray(payload) ? payload : [payload]) socket.write(p);
  });
}

/** The fields of the first ErrorResponse in a byte stream, decoded independently of the proxy's code. */
export function firstError(data: Buffer): Record<string, string> | undefined {
  let at = 0;
  while (at + 5 <= data.length) {
    const type = data[at];
    const len = data.readInt32BE(at + 1);
    if (type === 0x45) {
      const fields: Record<string, string> = {};
      let i = at + 5;
      while (i < at + 1 + len && data[i] !== 0) {
        const end = data.indexOf(0, i + 1);
        fields[String.fromCharCode(data[i] as number)] = data.toString('utf8', i + 1, end);
        i = end + 1;
      }
      return fields;
    }
    at += 1 + len;
  }
  return undefined;
}
