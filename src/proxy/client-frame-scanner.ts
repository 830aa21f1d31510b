/**
 * Watches the client-to-server byte stream for message boundaries without altering it. Only the 5-byte headers are
 * read for most messages; the bodies of the few messages session tracking must understand (Query, Parse, Close)
 * are copied aside as they pass — bounded in size — and handed over whole. The relayed chunks are never rebuilt.
 */

/** Client message types whose bodies the tracker reads: 'Q' Query, 'P' Parse, 'C' Close. */
const INSPECTED = new Set([0x51, 0x50, 0x43]);
/** Larger bodies are not copied: they are bulk statements, not SET/PREPARE/DDL worth tracking. */
const MAX_INSPECTED_BODY = 64 * 1024;

export type FrameHandler = (type: number, body: Buffer | undefined) => void;

export class ClientFrameScanner {
  private remaining = 0;
  private headerFill = 0;
  private readonly header = Buffer.alloc(5);
  private type = 0;
  private body: Buffer | undefined;
  private bodyFill = 0;
  /** The first bytes of a connection may be an untyped startup frame; relayed streams never start with one. */

  constructor(private readonly onFrame: FrameHandler) {}

  observe(chunk: Buffer): void {
    let i = 0;
    const n = chunk.length;
    while (i < n) {
      if (this.remaining > 0) {
        const take = Math.min(this.remaining, n - i);
        if (this.body) {
          chunk.copy(this.body, this.bodyFill, i, i + take);
          this.bodyFill += take;
        }
        this.remaining -= take;
        i += take;
        if (this.remaining === 0) this.complete();
        continue;
      }
      this.header[this.headerFill++] = chunk[i++] as number;
      if (this.headerFill === 5) {
        this.headerFill = 0;
        this.start(this.header[0] as number, this.header.readInt32BE(1));
      }
    }
  }

  private start(type: number, length: number): void {
    this.type = type;
    this.remaining = Math.max(0, length - 4);
    this.body = INSPECTED.has(type) && this.remaining <= MAX_INSPECTED_BODY ? Buffer.allocUnsafe(this.remaining) : undefined;
    this.bodyFill = 0;
    if (this.remaining === 0) this.complete();
  }

  private complete(): void {
    const body = this.body;
    this.body = undefined;
    this.onFrame(this.type, body);
  }
}
