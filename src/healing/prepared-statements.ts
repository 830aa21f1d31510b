/**
 * The prepared statements and portals a session holds on its server connection, as the server confirmed them:
 * named Parse frames to resend on a new connection, SQL-level PREPARE texts to replay, and what each statement and
 * portal does when executed. Counts its own bytes, for the tracker's per-session cap (see session-tracker.ts).
 */
import { OTHER } from './statement-kinds.js';
import type { StatementKind } from './statement-kinds.js';

export class PreparedStatements {
  /** SQL-level PREPAREs the server confirmed: name → the PREPARE statement's text. */
  private readonly sql = new Map<string, string>();
  private sqlBytes = 0;
  /** Protocol-level Parse messages of named statements the server accepted, whole frames, by name. */
  private readonly parsed = new Map<string, Buffer>();
  private parsedBytes = 0;
  /** What each statement and portal does when executed (named ones by name, '' the unnamed). */
  private readonly statementKinds = new Map<string, StatementKind>();
  private readonly portalKinds = new Map<string, StatementKind>();
  private kindBytes = 0;

  /** Bytes held: what the tracker's cap counts. */
  get bytes(): number {
    return this.sqlBytes + this.parsedBytes + this.kindBytes;
  }

  /** Names of the statements held: protocol-level (Parse) and SQL-level (PREPARE). */
  names(): { readonly protocol: readonly string[]; readonly sql: readonly string[] } {
    return { protocol: [...this.parsed.keys()], sql: [...this.sql.keys()] };
  }

  /** PREPARE statements that rebuild the SQL-level ones. */
  sqlTexts(): string[] {
    return [...this.sql.values()];
  }

  /** Whole Parse frames to resend for the named protocol-level ones. */
  parseFrames(): Buffer[] {
    return [...this.parsed.values()];
  }

  /** A Parse was sent: its statement's kind, known before the server answers (Bind and Execute need it). */
  parsing(name: string, kind: StatementKind): void {
    this.setKind(this.statementKinds, name, kind);
  }

  /** The server skipped or refused a Parse: its kind goes, unless a later Parse replaced it. */
  parseUndone(name: string, kind: StatementKind): void {
    if (this.statementKinds.get(name) === kind) this.forgetKind(this.statementKinds, name);
  }

  /** ParseComplete for a named statement: its Parse frame is kept for a new connection. */
  accepted(name: string, frame: Buffer): void {
    const old = this.parsed.get(name);
    if (old) this.parsedBytes -= old.length;
    this.parsed.set(name, frame);
    this.parsedBytes += frame.length;
  }

  /** A Bind: the portal does what its statement does. */
  binding(portal: string, statement: string): void {
    this.setKind(this.portalKinds, portal, this.statementKinds.get(statement) ?? OTHER);
  }

  /** What executing the portal does (OTHER when unknown). */
  portalKind(portal: string): StatementKind {
    return this.portalKinds.get(portal) ?? OTHER;
  }

  /** CloseComplete for a statement (or DEALLOCATE ALL): it is gone. */
  closed(name: string): void {
    const frame = this.parsed.get(name);
    if (frame) {
      this.parsedBytes -= frame.length;
      this.parsed.delete(name);
    }
    this.forgetKind(this.statementKinds, name);
  }

  /** A confirmed SQL-level PREPARE. */
  sqlPrepared(name: string, text: string): void {
    this.deallocated(name);
    this.sql.set(name, text);
    this.sqlBytes += name.length + text.length + 64;
  }

  /** A confirmed DEALLOCATE of a SQL-level one. */
  deallocated(name: string): void {
    const text = this.sql.get(name);
    if (text === undefined) return;
    this.sql.delete(name);
    this.sqlBytes -= name.length + text.length + 64;
  }

  /** DEALLOCATE ALL / DISCARD ALL: every prepared statement of either level is gone. */
  deallocatedAll(): void {
    this.sql.clear();
    this.sqlBytes = 0;
    for (const name of [...this.parsed.keys()]) this.closed(name);
  }

  /** Tracking stopped: release everything. */
  clear(): void {
    this.sql.clear();
    this.sqlBytes = 0;
    this.parsed.clear();
    this.parsedBytes = 0;
    this.statementKinds.clear();
    this.portalKinds.clear();
    this.kindBytes = 0;
  }

  private setKind(map: Map<string, StatementKind>, name: string, kind: StatementKind): void {
    if (!map.has(name)) this.kindBytes += name.length + 48;
    map.set(name, kind);
  }

  private forgetKind(map: Map<string, StatementKind>, name: string): void {
    if (map.delete(name)) this.kindBytes -= name.length + 48;
  }
}
