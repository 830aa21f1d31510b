/**
 * The smallest PostgreSQL client the self-test needs, so the demo depends on no client library: connect without
 * a password (as tools connect to the proxy), run simple-protocol queries, read text rows, end with Terminate.
 * https://www.postgresql.org/docs/current/protocol-flow.html#PROTOCOL-FLOW-SIMPLE-QUERY
 */
import net from 'node:net';
import { cstring, message } from '../protocol/builder.js';
import { AuthCode, BackendCode, FrontendCode } from '../protocol/codes.js';
import { decodeErrorFields } from '../protocol/error-fields.js';
import type { DecodedError } from '../protocol/error-fields.js';
import { FrameReader } from '../protocol/frame-reader.js';
import type { Frame } from '../protocol/frame-reader.js';
import { startupMessage, TERMINATE } from '../protocol/frontend-messages.js';

/** The server answered with an ErrorResponse. */
export class ServerError extends Error {
  constructor(readonly fields: DecodedError) {
    super(`${fields.code}: ${fields.message}`);
    this.name = 'ServerError';
  }
}

export interface QueryResult {
  readonly columns: readonly string[];
  /** Text values; null for SQL NULL. */
  readonly rows: ReadonlyArray<ReadonlyArray<string | null>>;
  /** The CommandComplete tag, e.g. `SELECT 3`. */
  readonly command: string;
}

const { RowDescription, DataRow, CommandComplete } = BackendCode;

export class WireClient {
  private readonly reader = new FrameReader(64 * 1024 * 1024);
  private waiting: ((frame: Frame | Error) => void) | undefined;
  private failure: Error | undefined;

  private constructor(private readonly socket: net.Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.reader.push(chunk);
      this.deliver();
    });
    socket.on('error', (err) => this.fail(err));
    socket.on('close', () => this.fail(new Error('the server closed the connection')));
  }

  /** Connects and logs in; rejects with ServerError if the server refuses (e.g. the proxy's 28000/08001). */
  static async connect(port: number, user: string, database: string, host = '127.0.0.1'): Promise<WireClient> {
    const socket = net.connect({ host, port });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    const client = new WireClient(socket);
    socket.write(startupMessage(new Map([['user', user], ['database', database], ['application_name', 'demo-self-test']])));
    try {
      await client.untilReady((frame) => {
        if (frame.type === BackendCode.Authentication && frame.body.readInt32BE(0) !== AuthCode.Ok) {
          throw new Error(`the server asked for a password (authentication code ${frame.body.readInt32BE(0)})`);
        }
      });
    } catch (err) {
      socket.destroy();
      throw err;
    }
    return client;
  }

  async query(sql: string): Promise<QueryResult> {
    this.socket.write(message(FrontendCode.Query, [cstring(sql)]));
    let columns: string[] = [];
    const rows: Array<Array<string | null>> = [];
    let command = '';
    await this.untilReady((frame) => {
      if (frame.type === RowDescription) columns = readColumnNames(frame.body);
      else if (frame.type === DataRow) rows.push(readRow(frame.body));
      else if (frame.type === CommandComplete) command = frame.body.toString('utf8', 0, frame.body.length - 1);
    });
    return { columns, rows, command };
  }

  /** The first column of the first row. */
  async scalar(sql: string): Promise<string | null> {
    return (await this.query(sql)).rows[0]?.[0] ?? null;
  }

  close(): void {
    if (!this.socket.destroyed) this.socket.end(TERMINATE);
  }

  /** Reads frames until ReadyForQuery; an ErrorResponse on the way rejects (after ReadyForQuery, if one comes). */
  private async untilReady(onFrame: (frame: Frame) => void): Promise<void> {
    let error: ServerError | undefined;
    for (;;) {
      const frame = await this.next();
      if (frame.type === BackendCode.ReadyForQuery) break;
      if (frame.type === BackendCode.ErrorResponse) {
        error = new ServerError(decodeErrorFields(frame.body));
        // An error during login is followed by the server closing the connection, not by ReadyForQuery.
        if (error.fields.severity === 'FATAL') throw error;
        continue;
      }
      onFrame(frame);
    }
    if (error) throw error;
  }

  private next(): Promise<Frame> {
    const frame = this.reader.nextTyped();
    if (frame) return Promise.resolve(frame);
    if (this.failure) return Promise.reject(this.failure);
    return new Promise<Frame>((resolve, reject) => {
      this.waiting = (f) => (f instanceof Error ? reject(f) : resolve(f));
    });
  }

  private deliver(): void {
    const waiting = this.waiting;
    if (!waiting) return;
    const frame = this.reader.nextTyped();
    if (!frame) return;
    this.waiting = undefined;
    waiting(frame);
  }

  private fail(err: Error): void {
    // Frames that arrived before the close are still read first (a FATAL ErrorResponse, typically).
    this.failure ??= err;
    this.deliver();
    const waiting = this.waiting;
    if (!waiting) return;
    this.waiting = undefined;
    waiting(err);
  }
}

function readColumnNames(body: Buffer): string[] {
  const count = body.readInt16BE(0);
  const names: string[] = [];
  let at = 2;
  for (let i = 0; i < count; i++) {
    const end = body.indexOf(0, at);
    names.push(body.toString('utf8', at, end));
    // Each field: name, then table oid (4), column (2), type oid (4), size (2), modifier (4), format (2).
    at = end + 1 + 18;
  }
  return names;
}

function readRow(body: Buffer): Array<string | null> {
  const count = body.readInt16BE(0);
  const values: Array<string | null> = [];
  let at = 2;
  for (let i = 0; i < count; i++) {
    const length = body.readInt32BE(at);
    at += 4;
    if (length < 0) {
      values.push(null);
      continue;
    }
    values.push(body.toString('utf8', at, at + length));
    at += length;
  }
  return values;
}
