/**
 * What a session has changed on its server connection, observed from the relayed messages, so that a lost
 * upstream connection can be replaced without the client noticing: session settings (SET/RESET), named prepared
 * statements (protocol Parse and SQL PREPARE), statements in flight and the transaction status. State that cannot
 * be rebuilt (temporary tables, LISTEN, cursors WITH HOLD, advisory locks, SET ROLE / SESSION AUTHORIZATION)
 * marks the session as not healable.
 */
import { TxStatus } from '../protocol/codes.js';
import { ClientFrameScanner } from './client-frame-scanner.js';

const Q = 0x51; // 'Q' Query
const P = 0x50; // 'P' Parse
const C = 0x43; // 'C' Close
const S = 0x53; // 'S' Sync
const F = 0x46; // 'F' FunctionCall
const X = 0x58; // 'X' Terminate
const B = 0x42; // 'B' Bind
const D = 0x44; // 'D' Describe
const E = 0x45; // 'E' Execute
const H = 0x48; // 'H' Flush

const SETTING = /^\s*(?:SET\s+(?!LOCAL\b|TRANSACTION\b|CONSTRAINTS\b|SESSION\s+CHARACTERISTICS\b)|RESET\s+)/i;
const PREPARE = /^\s*PREPARE\s+("(?:[^"]|"")+"|\w+)/i;
const DEALLOCATE = /^\s*DEALLOCATE\s+(?:PREPARE\s+)?("(?:[^"]|"")+"|\w+)/i;
const DISCARD_ALL = /^\s*(?:DISCARD\s+ALL|DEALLOCATE\s+(?:PREPARE\s+)?ALL)\b/i;
/** A cheap first look: statements without any of these words change nothing the tracker keeps. */
const INTERESTING = /SET|PREPARE|DEALLOC|DISCARD|LISTEN|TEMP|HOLD|ADVISORY|ROLE|AUTHORIZATION/i;
/** SELECT … INTO TEMP t (but not INSERT INTO temp …); two linear patterns, never one with nested wildcards. */
const SELECT_INTO_TEMP = (sql: string): boolean => /\bSELECT\b/i.test(sql) && /(?<!\bINSERT\s+)\bINTO\s+(?:TEMP|TEMPORARY)\b/i.test(sql);
const UNHEALABLE: Array<[RegExp, string]> = [
  [/\bCREATE\s+(?:(?:GLOBAL|LOCAL)\s+)?(?:TEMP|TEMPORARY)\s+(?:TABLE|VIEW|SEQUENCE)\b/i, 'a temporary table'],
  [/^\s*LISTEN\b/i, 'LISTEN'],
  [/\bWITH\s+HOLD\b/i, 'a cursor WITH HOLD'],
  [/\bpg_(?:try_)?advisory_lock(?:_shared)?\s*\(/i, 'an advisory lock'],
  [/^\s*SET\s+(?:SESSION\s+)?(?:ROLE|SESSION\s+AUTHORIZATION)\b/i, 'SET ROLE / SESSION AUTHORIZATION'],
];

export class SessionTracker {
  /** Messages sent that will each be answered by one ReadyForQuery. */
  inFlight = 0;
  /** Transaction status of the last ReadyForQuery ('I' until the first). */
  status: number = TxStatus.Idle;
  /**
   * Extended-protocol messages were sent since the last Sync: a batch is open, and after an error the server would
   * skip the rest of it up to that Sync.
   */
  extOpen = false;
  /** Set when the client sent Terminate: its upstream closing is expected. */
  terminated = false;
  /** Why the session cannot be rebuilt, once something made it so. */
  unhealable: string | undefined;
  /** SET/RESET statements in the order they were sent (replayed together). */
  private readonly settings: string[] = [];
  /** SQL-level PREPARE statements by name. */
  private readonly sqlPrepared = new Map<string, string>();
  /** Protocol-level Parse messages of named statements, whole frames, by name. */
  private readonly parsed = new Map<string, Buffer>();
  readonly fromClient = new ClientFrameScanner((type, body) => this.onClientFrame(type, body));

  /** Nothing in flight, no batch open, not in a transaction: the upstream may be replaced unnoticed. */
  get idle(): boolean {
    return this.inFlight === 0 && this.status === TxStatus.Idle && !this.extOpen;
  }

  /** Called for every ReadyForQuery the server sends. */
  readyForQuery(status: number): void {
    this.status = status;
    if (this.inFlight > 0) this.inFlight--;
  }

  /** Statements that rebuild the session on a new connection: one simple Query text (may be empty). */
  replayText(): string {
    return [...this.settings, ...this.sqlPrepared.values()].map((s) => s.trim().replace(/;\s*$/, '')).join(';\n');
  }

  /** Names of the prepared statements the session holds: protocol-level (Parse) and SQL-level (PREPARE). */
  preparedNames(): { readonly protocol: readonly string[]; readonly sql: readonly string[] } {
    return { protocol: [...this.parsed.keys()], sql: [...this.sqlPrepared.keys()] };
  }

  /** Whole Parse frames to resend for named prepared statements. */
  replayParses(): Buffer[] {
    return [...this.parsed.values()];
  }

  private onClientFrame(type: number, body: Buffer | undefined): void {
    switch (type) {
      case Q:
        this.inFlight++;
        if (body) this.onSql(body.toString('utf8', 0, Math.max(0, body.length - 1)));
        return;
      case S:
        this.extOpen = false;
        this.inFlight++;
        return;
      case F:
        this.inFlight++;
        return;
      case P:
        this.extOpen = true;
        if (body) this.onParse(body);
        return;
      case C:
        this.extOpen = true;
        // Close: 'S' statement or 'P' portal, then the name.
        if (body && body[0] === 0x53) this.parsed.delete(cstringAt(body, 1));
        return;
      case B:
      case D:
      case E:
      case H:
        this.extOpen = true;
        return;
      case X:
        this.terminated = true;
        return;
      default:
        return;
    }
  }

  private onParse(body: Buffer): void {
    const name = cstringAt(body, 0);
    const queryStart = Buffer.byteLength(name) + 1;
    const query = cstringAt(body, queryStart);
    this.onSql(query);
    if (name.length > 0) {
      const frame = Buffer.allocUnsafe(5 + body.length);
      frame[0] = P;
      frame.writeInt32BE(4 + body.length, 1);
      body.copy(frame, 5);
      this.parsed.set(name, frame);
    }
  }

  private onSql(sql: string): void {
    if (!INTERESTING.test(sql)) return;
    if (SELECT_INTO_TEMP(sql)) this.unhealable ??= 'the session holds a temporary table, which cannot be recreated on a new connection';
    for (const [pattern, what] of UNHEALABLE) {
      if (pattern.test(sql)) {
        this.unhealable ??= `the session holds ${what}, which cannot be recreated on a new connection`;
      }
    }
    // Multi-statement strings are split naively on ';' — settings rarely hide semicolons in string literals.
    for (const statement of sql.split(';')) {
      if (SETTING.test(statement)) this.settings.push(statement);
      else if (DISCARD_ALL.test(statement)) {
        this.sqlPrepared.clear();
        this.parsed.clear();
      } else {
        const prep = PREPARE.exec(statement);
        if (prep) this.sqlPrepared.set(prep[1] as string, statement);
        const dealloc = DEALLOCATE.exec(statement);
        if (dealloc) this.sqlPrepared.delete(dealloc[1] as string);
      }
    }
  }
}

function cstringAt(buf: Buffer, start: number): string {
  const end = buf.indexOf(0, start);
  return buf.toString('utf8', start, end < 0 ? buf.length : end);
}
