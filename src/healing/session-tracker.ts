/**
 * What a session has changed on its server connection, so that a lost upstream connection can be replaced without
 * the client noticing — counting only what the server confirmed. Client messages are lexed into statements (never
 * split on a bare `;`) and queued in the order the server answers them; each answer settles its statement: a SET
 * is kept once CommandComplete `SET` arrives and its transaction commits, a prepared statement once ParseComplete
 * arrives, and an error drops what it undid. ParameterStatus is the truth for reported settings. What the proxy
 * cannot prove (set_config(), DO, CALL, LISTEN, SET ROLE, temporary tables, unknown statements, answers that do
 * not fit the queue) makes the session non-healable; when even a reset could not undo it, or the tracked state
 * grows past its byte cap, tracking stops, its memory is released, and only statement counts are kept.
 * This file reads the messages and keeps the queue; what is kept lives in tracked-settings.ts and
 * prepared-statements.ts, what a confirmed statement does in confirmed-statement.ts.
 */
import { BackendCode, CloseTarget, FrontendCode, TxStatus } from '../protocol/codes.js';
import { FrameScanner, MAX_INSPECTED_BODY } from '../protocol/frame-scanner.js';
import { HealBudget } from './heal-budget.js';
import { ExpectationQueue } from './expectations.js';
import type { Expectation } from './expectations.js';
import { applyConfirmed } from './confirmed-statement.js';
import { cstringAt, nameValue, zeroAt } from './message-fields.js';
import { PreparedStatements } from './prepared-statements.js';
import { IDENTITY_REPORTED, SETTABLE_REPORTED, readableEncoding } from './reported-parameters.js';
import { StatementClassifier } from './statement-classifier.js';
import { OTHER, asciiLower, tagFits } from './statement-kinds.js';
import type { StatementKind } from './statement-kinds.js';
import { TrackedSettings } from './tracked-settings.js';

/** Entries that carry nothing of their own are shared: no allocation per message on the hot path. */
const READY: Expectation = { t: 'ready' };
const STMT_OTHER: Expectation = { t: 'stmt', kind: OTHER };
const PARSE_UNNAMED_OTHER: Expectation = { t: 'parse', name: '', kind: OTHER, frame: undefined };

/** Per-session bytes of tracked state (settings, prepared statements, queued answers) before tracking gives up. */
export const DEFAULT_MAX_TRACKED_BYTES = 1024 * 1024;

const CLIENT_LIMITS = { Q: MAX_INSPECTED_BODY, P: MAX_INSPECTED_BODY, B: 1024, E: 1024, C: 1024, D: 0, S: 0, F: 0, X: 0, H: 0 };
const SERVER_LIMITS = { C: 1024, S: 8192, E: 0, V: 0, Z: 1, '1': 0, '3': 0, I: 0, s: 0 };
export class SessionTracker {
  /** Messages sent that will each be answered by one ReadyForQuery. */
  inFlight = 0;
  /** Transaction status of the last ReadyForQuery ('I' until the first). */
  status: number = TxStatus.Idle;
  /** Set when the client sent Terminate: its upstream closing is expected. */
  terminated = false;
  /** Why the session cannot be rebuilt, once something made it so. */
  unhealable: string | undefined;
  /** False once the session did something a reset before reuse cannot undo (or tracking stopped). */
  resettable = true;
  /** Tracking stopped (unprovable state or the byte cap): only statement counts are kept. */
  private counting = false;
  private readonly settings = new TrackedSettings();
  private readonly prepared = new PreparedStatements();
  private readonly queue = new ExpectationQueue();
  /**
   * Extended-protocol messages were sent since the last Sync: a batch is open, and after an error the server would
   * skip the rest of it up to that Sync.
   */
  extOpen = false;
  /** The server reported an error in an extended batch whose Sync is not sent yet: it skips up to that Sync. */
  private skipping = false;
  /** standard_conforming_strings as last reported (undefined: not reported; statements must lex alike both ways). */
  private scs: boolean | undefined;
  private readonly initial = new Map<string, string>();
  private readonly classifier = new StatementClassifier();
  /** How often this session may still be healed. */
  readonly budget = new HealBudget();
  readonly fromClient = new FrameScanner(CLIENT_LIMITS, (type, data, start, end) => this.onClientFrame(type, data, start, end));
  readonly fromServer = new FrameScanner(SERVER_LIMITS, (type, data, start, end) => this.onServerFrame(type, data, start, end));

  constructor(private readonly maxBytes = DEFAULT_MAX_TRACKED_BYTES) {}

  /** Nothing in flight, no batch open, not in a transaction: the upstream may be replaced unnoticed. */
  get idle(): boolean {
    return this.inFlight === 0 && this.status === TxStatus.Idle && !this.extOpen;
  }

  /** The connection may serve another client after a reset (see reset-session.ts). */
  get reusable(): boolean {
    return this.resettable && !this.counting;
  }

  /** Bytes of state held for this session: what the cap bounds. */
  get trackedBytes(): number {
    return this.settings.bytes + this.prepared.bytes + this.queue.bytes;
  }

  /** The ParameterStatus frames of the login: the values a fresh connection starts with. */
  startedWith(statusFrames: readonly Buffer[]): void {
    for (const f of statusFrames) {
      const [name, value] = nameValue(f, 5, f.length);
      this.initial.set(asciiLower(name), value);
    }
    const scs = this.initial.get('standard_conforming_strings');
    if (scs !== undefined) this.scs = scs === 'on';
    this.checkEncoding(this.initial.get('client_encoding'));
  }

  /** For callers that see ReadyForQuery themselves (tests). */
  readyForQuery(status: number): void {
    this.onServerFrame(BackendCode.ReadyForQuery, Buffer.from([status]), 0, 1);
  }

  /** The loss of a connection inside a transaction rolled it back: what it changed is gone. */
  transactionLost(): void {
    this.settings.rollback();
    this.queue.clear();
    this.skipping = false;
  }

  /** Statements that rebuild the session on a new connection: one simple Query text (may be empty), as bytes. */
  replayQuery(): Buffer {
    const text = [...this.settings.replayStatements(), ...this.prepared.sqlTexts()].join(';\n');
    return Buffer.from(text, 'latin1');
  }

  /** Text form of replayQuery, for tests and logs. */
  replayText(): string {
    return this.replayQuery().toString('latin1');
  }

  /** Names of the prepared statements the session holds: protocol-level (Parse) and SQL-level (PREPARE). */
  preparedNames(): { readonly protocol: readonly string[]; readonly sql: readonly string[] } {
    return this.prepared.names();
  }

  /** Whole Parse frames to resend for named prepared statements. */
  replayParses(): Buffer[] {
    return this.prepared.parseFrames();
  }

  private onClientFrame(type: number, body: Buffer | undefined, start: number, end: number): void {
    switch (type) {
      case FrontendCode.Query:
        this.inFlight++;
        if (this.counting) return;
        if (this.extOpen) return this.unprovable('simple and extended queries mixed without Sync', false);
        if (!body) return this.unprovable('a statement too large to inspect', false);
        this.onQuery(body, start, Math.max(start, end - 1));
        return;
      case FrontendCode.Sync:
        this.inFlight++;
        this.extOpen = false;
        this.skipping = false;
        if (!this.counting) this.push(READY);
        return;
      case FrontendCode.FunctionCall: // what the function did is unknown once it ran (FunctionCallResponse)
        this.inFlight++;
        if (!this.counting) this.push(READY);
        return;
      case FrontendCode.Terminate:
        this.terminated = true;
        return;
      default:
        break;
    }
    this.extOpen = true;
    if (this.counting || this.skipping) return;
    if (type === FrontendCode.Describe || type === FrontendCode.Flush) return; // nothing to keep
    if (!body) return this.unprovable('a statement too large to inspect', false);
    if (type === FrontendCode.Parse) this.onParse(body, start, end);
    else if (type === FrontendCode.Bind) { // portal, statement
      const portalEnd = zeroAt(body, start, end);
      this.prepared.binding(cstringAt(body, start, end), cstringAt(body, portalEnd + 1, end));
    } else if (type === FrontendCode.Execute) {
      const kind = this.prepared.portalKind(cstringAt(body, start, end));
      this.push(kind === OTHER ? STMT_OTHER : { t: 'stmt', kind });
    } else if (type === FrontendCode.Close) { // 'S' statement or 'P' portal, then the name
      const name = cstringAt(body, start + 1, end);
      this.push({ t: 'close', ...(body[start] === CloseTarget.Statement ? { statement: name } : {}) });
    }
  }

  private onQuery(data: Buffer, start: number, end: number): void {
    const kinds = this.classifier.kinds(data, start, end, this.scs);
    if (kinds === undefined) return this.unprovable('a statement that reads differently with standard_conforming_strings on and off', false);
    if (kinds.length === 0) this.push(STMT_OTHER); // answered by EmptyQueryResponse
    else if (kinds.length === 1 && kinds[0] === OTHER) this.push(STMT_OTHER);
    else for (const kind of kinds) this.push(kind === OTHER ? { t: 'run', n: 1 } : { t: 'stmt', kind });
    this.push(READY);
  }

  private onParse(body: Buffer, start: number, end: number): void {
    const nameEnd = zeroAt(body, start, end);
    const name = cstringAt(body, start, end);
    const kinds = this.classifier.kinds(body, nameEnd + 1, zeroAt(body, nameEnd + 1, end), this.scs);
    if (kinds === undefined) return this.unprovable('a statement that reads differently with standard_conforming_strings on and off', false);
    const kind = kinds[0] ?? OTHER;
    this.prepared.parsing(name, kind);
    let frame: Buffer | undefined;
    if (name.length > 0) {
      frame = Buffer.allocUnsafe(5 + end - start);
      frame[0] = FrontendCode.Parse;
      frame.writeInt32BE(4 + end - start, 1);
      body.copy(frame, 5, start, end);
    }
    this.push(name === '' && kind === OTHER ? PARSE_UNNAMED_OTHER : { t: 'parse', name, kind, frame });
  }

  private onServerFrame(type: number, body: Buffer | undefined, start: number, end: number): void {
    if (type === BackendCode.ReadyForQuery) {
      this.status = body?.[start] ?? TxStatus.Idle;
      if (this.inFlight > 0) this.inFlight--;
      if (this.counting) return;
      const e = this.queue.shift();
      if (e?.t !== 'ready') return this.unprovable('answers the proxy could not match to statements', false);
      this.settings.ready(this.status === TxStatus.Idle);
      return;
    }
    if (type === BackendCode.ErrorResponse) return this.onError();
    if (this.counting) return;
    switch (type) {
      case BackendCode.CommandComplete: return this.onCommandComplete(body ? cstringAt(body, start, end) : '');
      case BackendCode.EmptyQueryResponse: case BackendCode.PortalSuspended: {
        const e = this.queue.peek();
        if (e?.t === 'run' && --e.n > 0) return;
        if (e?.t !== 'stmt' && e?.t !== 'run') return this.unprovable('answers the proxy could not match to statements', false);
        this.queue.shift();
        return;
      }
      case BackendCode.ParseComplete: {
        const e = this.queue.shift();
        if (e?.t !== 'parse') return this.unprovable('answers the proxy could not match to statements', false);
        if (e.frame) this.prepared.accepted(e.name, e.frame);
        return this.checkCap();
      }
      case BackendCode.CloseComplete: {
        const e = this.queue.shift();
        if (e?.t !== 'close') return this.unprovable('answers the proxy could not match to statements', false);
        if (e.statement !== undefined) this.prepared.closed(e.statement);
        return;
      }
      case BackendCode.FunctionCallResponse: // a function ran by its OID (set_config's, say); its effect cannot be proven
        return this.unprovable('a function call', false);
      case BackendCode.ParameterStatus:
        if (body) this.onParameterStatus(...nameValue(body, start, end));
        return;
      default:
        return;
    }
  }

  private onCommandComplete(tag: string): void {
    const e = this.queue.peek();
    let kind: StatementKind;
    if (e?.t === 'run') {
      if (--e.n === 0) this.queue.shift();
      kind = OTHER;
    } else if (e?.t === 'stmt') {
      this.queue.shift();
      kind = e.kind;
    }
    else return this.unprovable('answers the proxy could not match to statements', false);
    if (!tagFits(kind, tag)) return this.unprovable(`an answer (${tag.split(' ')[0] ?? ''}) that does not fit its statement`, false);
    if (kind.k === 'unprovable') return this.unprovable(kind.why, kind.resettable);
    if (applyConfirmed(kind, tag, this.settings, this.prepared)) this.checkCap();
  }

  private onError(): void {
    if (this.counting) return;
    // The server skips the rest of the Query, or the extended messages up to Sync: their statements never ran.
    for (let e = this.queue.peek(); e && e.t !== 'ready'; e = this.queue.peek()) {
      this.queue.shift();
      if (e.t === 'parse') this.prepared.parseUndone(e.name, e.kind);
    }
    if (!this.queue.peek() && this.extOpen) this.skipping = true;
    this.settings.error();
  }

  private onParameterStatus(name: string, value: string): void {
    const key = asciiLower(name);
    if (key === 'standard_conforming_strings') {
      const on = value === 'on';
      // Statements already queued were lexed with the old value: unless only the current one is, they may be wrong.
      if (this.scs !== on && this.queue.readies > 1) this.unprovable('standard_conforming_strings changed with statements queued', false);
      this.scs = on;
    }
    if (key === 'client_encoding') this.checkEncoding(value);
    if (IDENTITY_REPORTED.has(key) && this.initial.has(key) && this.initial.get(key) !== value) {
      this.unprovable('SET ROLE / SET SESSION AUTHORIZATION', false);
    }
    if (this.counting || !SETTABLE_REPORTED.has(key)) return;
    if (this.initial.get(key) === value) this.settings.change({ op: 'reset', key });
    else if (value.includes('\\')) return this.unprovable('a reported setting whose value has a backslash', true);
    else this.settings.change({ op: 'set', key, text: `SET "${key}" TO '${value.replace(/'/g, "''")}'` });
    // Reported between statements (nothing in flight): not part of any transaction.
    if (this.inFlight === 0 && !this.settings.inBlock) this.settings.commit();
    this.checkCap();
  }

  private checkEncoding(encoding: string | undefined): void {
    if (encoding !== undefined && !readableEncoding(encoding)) this.unprovable(`the client encoding ${encoding}, which the proxy cannot read`, false);
  }

  private push(e: Expectation): void {
    this.queue.push(e);
    if (e.t === 'parse' || this.queue.length % 1024 === 0) this.checkCap();
  }

  private checkCap(): void {
    if (!this.counting && this.trackedBytes > this.maxBytes) {
      this.unprovable(`more state than the ${this.maxBytes} bytes the proxy keeps per session`, false);
    }
  }

  /** Marks the session non-healable; when a reset could not undo it either, stops tracking and frees its state. */
  private unprovable(why: string, resettable: boolean): void {
    this.unhealable ??= `the session used ${why}, which the proxy cannot recreate on a new connection`;
    if (resettable || this.counting) return;
    this.resettable = false;
    this.counting = true;
    this.settings.clear();
    this.prepared.clear();
    this.queue.clear();
  }
}
