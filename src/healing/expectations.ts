/**
 * The answers a session's server still owes, in the order it will send them: one per statement of a simple Query
 * (harmless ones counted in runs), per Parse, Execute and Close, and a ReadyForQuery per Query or Sync. Each
 * answer the server sends settles the head of the queue; the bytes it holds count against the tracker's cap.
 */
import type { StatementKind } from './statement-kinds.js';

export type Expectation =
  | { readonly t: 'stmt'; readonly kind: StatementKind }
  /** `n` statements in a row that change nothing tracked. */
  | { readonly t: 'run'; n: number }
  | { readonly t: 'parse'; readonly name: string; readonly kind: StatementKind; readonly frame: Buffer | undefined }
  | { readonly t: 'close'; readonly statement?: string }
  | { readonly t: 'ready' };

/** What an entry costs besides a Parse frame. */
const ENTRY_BYTES = 32;

export class ExpectationQueue {
  private items: Expectation[] = [];
  private head = 0;
  /** ReadyForQuery entries queued. */
  readies = 0;
  bytes = 0;

  get length(): number {
    return this.items.length - this.head;
  }

  push(e: Expectation): void {
    const last = this.items.length > this.head ? this.items[this.items.length - 1] : undefined;
    if (e.t === 'run' && last?.t === 'run') {
      last.n += e.n;
      return;
    }
    this.items.push(e);
    this.bytes += cost(e);
    if (e.t === 'ready') this.readies++;
  }

  peek(): Expectation | undefined {
    return this.items[this.head];
  }

  shift(): Expectation | undefined {
    const e = this.items[this.head];
    if (!e) return undefined;
    this.items[this.head] = undefined as unknown as Expectation;
    this.head++;
    if (this.head === this.items.length) {
      this.items.length = 0;
      this.head = 0;
    } else if (this.head >= 1024 && this.head * 2 >= this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    this.bytes -= cost(e);
    if (e.t === 'ready') this.readies--;
    return e;
  }

  clear(): void {
    this.items = [];
    this.head = 0;
    this.readies = 0;
    this.bytes = 0;
  }
}

function cost(e: Expectation): number {
  return ENTRY_BYTES + (e.t === 'parse' ? (e.frame?.length ?? 0) + e.name.length : 0);
}
