/**
 * After an error in an extended-protocol batch PostgreSQL discards the client's messages up to the next Sync, then
 * answers that Sync with ReadyForQuery. When the proxy itself reports a lost connection inside an open batch, it
 * does the same: this reads the client's bytes until its Sync and hands back what follows.
 * https://www.postgresql.org/docs/current/protocol-flow.html#PROTOCOL-FLOW-EXT-QUERY
 */
import { FrontendCode } from '../protocol/codes.js';
import { FrameReader } from '../protocol/frame-reader.js';

export type SkipOutcome =
  | { readonly kind: 'skipping' }
  | { readonly kind: 'synced'; readonly rest: Buffer }
  | { readonly kind: 'terminate' };

export class SkipToSync {
  private readonly reader = new FrameReader(1 << 24);

  /** Frames client bytes and drops them until Sync (or Terminate); throws FrameError on malformed input. */
  consume(chunk: Buffer): SkipOutcome {
    this.reader.push(chunk);
    for (let f = this.reader.nextTyped(); f; f = this.reader.nextTyped()) {
      if (f.type === FrontendCode.Sync) return { kind: 'synced', rest: this.reader.drain() };
      if (f.type === FrontendCode.Terminate) return { kind: 'terminate' };
    }
    return { kind: 'skipping' };
  }
}
