/**
 * After the upstream connection was lost inside a transaction, the proxy answers the client itself, as PostgreSQL
 * answers a session in a failed transaction block: every statement gets SQLSTATE 25P02 and ReadyForQuery 'E' —
 * until the client rolls back, which is acknowledged with ReadyForQuery 'I'. Then the session can be healed.
 */
import { errorResponse, readyForQuery } from '../protocol/backend-messages.js';
import { cstring, message } from '../protocol/builder.js';
import { BackendCode, FrontendCode, TxStatus } from '../protocol/codes.js';
import { FrameReader } from '../protocol/frame-reader.js';
import type { Frame } from '../protocol/frame-reader.js';

const ROLLBACK = /^\s*(?:ROLLBACK|ABORT)\b(?!\s+(?:TO|PREPARED)\b)/i;
/** What PostgreSQL answers every statement in a failed transaction block (SQLSTATE 25P02). */
export const ABORTED = errorResponse({
  severity: 'ERROR',
  code: '25P02',
  message: 'current transaction is aborted, commands ignored until end of transaction block',
  detail: 'The connection to Redshift was lost during the transaction; it was rolled back.',
  hint: 'Run ROLLBACK, then retry the transaction: the proxy reconnects on its own.',
});
const PARSE_COMPLETE = message(BackendCode.ParseComplete, []);
const BIND_COMPLETE = message(BackendCode.BindComplete, []);
const CLOSE_COMPLETE = message(BackendCode.CloseComplete, []);
const NO_DATA = message(BackendCode.NoData, []);
const ROLLBACK_COMPLETE = message(BackendCode.CommandComplete, [cstring('ROLLBACK')]);

export type FailedAnswer = { readonly reply: Buffer; readonly rolledBack: boolean; readonly terminate: boolean };

/** What a chunk of client bytes led to: replies to write, and how the phase ends (with any bytes after it). */
export interface FailedOutcome {
  readonly reply: Buffer;
  readonly end?: { readonly kind: 'rolled-back'; readonly rest: Buffer } | { readonly kind: 'terminate' };
}

export class FailedTransaction {
  /** Extended-protocol messages since the last Sync. */
  private batch: number[] = [];
  private batchRollsBack = false;

  private readonly reader = new FrameReader(1 << 24);

  /** @param firstError what the first refused statement is told (the news of the lost connection), if not 25P02. */
  constructor(private firstError?: Buffer) {}

  /** Frames client bytes and answers each message; throws FrameError on malformed input. */
  consume(chunk: Buffer): FailedOutcome {
    this.reader.push(chunk);
    const replies: Buffer[] = [];
    for (let f = this.reader.nextTyped(); f; f = this.reader.nextTyped()) {
      const answer = this.answer(f);
      if (answer.reply.length > 0) replies.push(answer.reply);
      if (answer.terminate) return { reply: Buffer.concat(replies), end: { kind: 'terminate' } };
      if (answer.rolledBack) return { reply: Buffer.concat(replies), end: { kind: 'rolled-back', rest: this.reader.drain() } };
    }
    return { reply: Buffer.concat(replies) };
  }

  private refusal(): Buffer {
    const e = this.firstError ?? ABORTED;
    this.firstError = undefined;
    return Buffer.concat([e, readyForQuery(TxStatus.Failed)]);
  }

  /** Answers one client frame; `rolledBack` once the client's ROLLBACK was acknowledged. */
  answer(frame: Frame): FailedAnswer {
    const t = frame.type;
    switch (t) {
      case FrontendCode.Query: {
        const sql = frame.body.toString('utf8', 0, Math.max(0, frame.body.length - 1));
        if (ROLLBACK.test(sql)) return { reply: Buffer.concat([ROLLBACK_COMPLETE, readyForQuery(TxStatus.Idle)]), rolledBack: true, terminate: false };
        return { reply: this.refusal(), rolledBack: false, terminate: false };
      }
      case FrontendCode.Parse:
        if (ROLLBACK.test(cstringAfterName(frame.body))) this.batchRollsBack = true;
        this.batch.push(t);
        return nothing();
      case FrontendCode.Bind: case FrontendCode.Describe: case FrontendCode.Execute: case FrontendCode.Close:
        this.batch.push(t);
        return nothing();
      case FrontendCode.Sync: // answer the whole batch
        return this.sync();
      case FrontendCode.Terminate:
        return { reply: Buffer.alloc(0), rolledBack: false, terminate: true };
      default: // Flush, CopyData… nothing to say until Sync
        return nothing();
    }
  }

  private sync(): FailedAnswer {
    const batch = this.batch;
    const rollsBack = this.batchRollsBack;
    this.batch = [];
    this.batchRollsBack = false;
    if (!rollsBack) return { reply: this.refusal(), rolledBack: false, terminate: false };
    const parts = batch.map((t) => {
      switch (t) {
        case FrontendCode.Parse: return PARSE_COMPLETE;
        case FrontendCode.Bind: return BIND_COMPLETE;
        case FrontendCode.Describe: return NO_DATA;
        case FrontendCode.Execute: return ROLLBACK_COMPLETE;
        default: return CLOSE_COMPLETE;
      }
    });
    return { reply: Buffer.concat([...parts, readyForQuery(TxStatus.Idle)]), rolledBack: true, terminate: false };
  }
}

function nothing(): FailedAnswer {
  return { reply: Buffer.alloc(0), rolledBack: false, terminate: false };
}

/** Parse body: statement name, then the query text. */
function cstringAfterName(body: Buffer): string {
  const nameEnd = body.indexOf(0);
  const end = body.indexOf(0, nameEnd + 1);
  return body.toString('utf8', nameEnd + 1, end < 0 ? body.length : end);
}


