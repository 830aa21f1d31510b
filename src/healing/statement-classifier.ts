/**
 * Statement kinds of a Query or Parse text (the client's bytes), remembering the last answer: dashboards and drivers
 * send the same statements again and again, so the tracker lexes a repeated text once (see classify-text.ts).
 */
import { classifyText } from './classify-text.js';
import type { StatementKind } from './statement-kinds.js';

/** Texts longer than this are not remembered (the copy would cost more than it saves). */
const MAX_REMEMBERED = 4096;

export class StatementClassifier {
  private last: { readonly bytes: Buffer; readonly scs: boolean | undefined; readonly kinds: StatementKind[] | undefined } | undefined;

  /** The kinds of data[start, end) with standard_conforming_strings `scs` (undefined: it must lex alike both ways). */
  kinds(data: Buffer, start: number, end: number, scs: boolean | undefined): StatementKind[] | undefined {
    const last = this.last;
    if (last && last.scs === scs && last.bytes.length === end - start
      && data.compare(last.bytes, 0, last.bytes.length, start, end) === 0) return last.kinds;
    const kinds = classifyText(data.toString('latin1', start, end), scs);
    this.last = end - start <= MAX_REMEMBERED ? { bytes: Buffer.from(data.subarray(start, end)), scs, kinds } : undefined;
    return kinds;
  }
}
