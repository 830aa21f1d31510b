/**
 * One simple-protocol query on a logged-in upstream connection, for `check`: send Query, collect the first row
 * until ReadyForQuery, then Terminate. Messages are built and parsed with pg-protocol.
 * https://www.postgresql.org/docs/current/protocol-flow.html#PROTOCOL-FLOW-SIMPLE-QUERY
 */
import type { Duplex } from 'node:stream';
import { parse, serialize } from 'pg-protocol';

export class QueryError extends Error {
  constructor(message: string, readonly code: string | undefined, readonly hint: string | undefined) {
    super(message);
    this.name = 'QueryError';
  }
}

/** The first row's values as text (null for SQL NULL); rejects with QueryError on an ErrorResponse. */
export function simpleQuery(socket: Duplex, sql: string, timeoutMs: number): Promise<Array<string | null>> {
  return new Promise((resolve, reject) => {
    let row: Array<string | null> | undefined;
    let failure: QueryError | undefined;
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new QueryError(`no answer to the query within ${timeoutMs} ms`, undefined, 'The cluster may be busy; try again.'));
    }, timeoutMs);
    const done = (err?: Error): void => {
      clearTimeout(timer);
      socket.end(serialize.end());
      if (err) reject(err);
      else resolve(row ?? []);
    };
    const onClose = (): void => done(failure ?? new QueryError('Redshift closed the connection during the query', undefined, undefined));
    socket.once('close', onClose);
    void parse(socket, (msg) => {
      switch (msg.name) {
        case 'dataRow':
          row ??= (msg as unknown as { fields: unknown[] }).fields.map((f) => (f === null ? null : String(f)));
          return;
        case 'error': {
          const e = msg as unknown as { message: string; code?: string; hint?: string };
          failure = new QueryError(e.message, e.code, e.hint);
          return;
        }
        case 'readyForQuery':
          socket.off('close', onClose);
          done(failure);
          return;
        default:
      }
    });
    // The login left the socket paused (explicitly, so a 'data' listener alone does not resume it).
    socket.resume();
    socket.write(serialize.query(sql));
  });
}
