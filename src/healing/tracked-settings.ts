/**
 * Session settings as the server confirmed them, with PostgreSQL's transaction semantics: a change made inside a
 * transaction (explicit, or the implicit one of a multi-statement Query or of an extended-protocol batch up to
 * Sync) counts only once that transaction commits; ROLLBACK drops it, ROLLBACK TO SAVEPOINT drops what came
 * after the savepoint. Committed settings are kept by name, last change wins, in a form replayable on a new
 * connection: the statement text the server accepted, or — for settings the server reports (ParameterStatus) —
 * a SET built from the reported value.
 */

export type SettingChange =
  | { readonly op: 'set'; readonly key: string; readonly text: string }
  | { readonly op: 'reset'; readonly key: string }
  | { readonly op: 'reset-all' };

/** Bytes a change costs beyond its text (the entry, the key). */
const ENTRY_BYTES = 64;

export class TrackedSettings {
  private readonly committed = new Map<string, string>();
  private pending: SettingChange[] = [];
  private savepoints: Array<{ readonly name: string; readonly at: number }> = [];
  /** An explicit transaction block is open (BEGIN seen, or ReadyForQuery said 'T'/'E'). */
  inBlock = false;
  /** What the committed and pending settings hold, in bytes, for the per-session cap. */
  bytes = 0;

  change(c: SettingChange): void {
    this.pending.push(c);
    this.bytes += cost(c);
  }

  begin(): void {
    this.inBlock = true;
  }

  /** COMMIT (and the end of an implicit transaction): pending changes take effect. */
  commit(chain = false): void {
    this.inBlock = chain;
    if (this.pending.length === 0 && this.savepoints.length === 0) return;
    for (const c of this.pending) {
      this.bytes -= cost(c);
      this.apply(c);
    }
    this.pending = [];
    this.savepoints = [];
  }

  rollback(chain = false): void {
    this.inBlock = chain;
    if (this.pending.length === 0 && this.savepoints.length === 0) return;
    for (const c of this.pending) this.bytes -= cost(c);
    this.pending = [];
    this.savepoints = [];
  }

  savepoint(name: string): void {
    this.savepoints.push({ name, at: this.pending.length });
  }

  /** RELEASE: the savepoint (and later ones) go; their changes stay pending in the transaction. */
  release(name: string): void {
    const i = this.findSavepoint(name);
    if (i >= 0) this.savepoints.length = i;
  }

  /** ROLLBACK TO SAVEPOINT: changes after it are dropped; the savepoint itself remains. */
  rollbackTo(name: string): void {
    const i = this.findSavepoint(name);
    if (i < 0) return;
    const at = (this.savepoints[i] as { at: number }).at;
    for (const c of this.pending.slice(at)) this.bytes -= cost(c);
    this.pending.length = at;
    this.savepoints.length = i + 1;
  }

  /** An error outside a transaction block rolls back the implicit transaction it happened in. */
  error(): void {
    if (!this.inBlock) this.rollback();
  }

  /** ReadyForQuery: 'I' ends whatever transaction was open, committed (rollbacks and errors were seen before). */
  ready(idle: boolean): void {
    if (idle) this.commit();
    else this.inBlock = true;
  }

  /** Statements that restore the committed settings on a fresh connection, in the order they were made. */
  replayStatements(): string[] {
    return [...this.committed.values()];
  }

  clear(): void {
    this.committed.clear();
    this.pending = [];
    this.savepoints = [];
    this.bytes = 0;
  }

  private apply(c: SettingChange): void {
    if (c.op === 'reset-all') {
      for (const [k, text] of this.committed) this.bytes -= text.length + k.length + ENTRY_BYTES;
      this.committed.clear();
      return;
    }
    const old = this.committed.get(c.key);
    if (old !== undefined) {
      this.bytes -= old.length + c.key.length + ENTRY_BYTES;
      this.committed.delete(c.key);
    }
    if (c.op === 'set') {
      this.committed.set(c.key, c.text);
      this.bytes += c.text.length + c.key.length + ENTRY_BYTES;
    }
  }

  private findSavepoint(name: string): number {
    for (let i = this.savepoints.length - 1; i >= 0; i--) if (this.savepoints[i]?.name === name) return i;
    return -1;
  }
}

function cost(c: SettingChange): number {
  return ENTRY_BYTES + (c.op === 'set' ? c.text.length + c.key.length : c.op === 'reset' ? c.key.length : 0);
}
