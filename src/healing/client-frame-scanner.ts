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
  /** The body is a view into the chunk being observed (it arrived whole), not a copy. */
  private viewed = false;

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
      if (this.headerFill === 0 && n - i >= 5) {
        // Fast path: a whole header inside this chunk.
        this.start(chunk[i] as number, chunk.readInt32BE(i + 1), chunk, i + 5);
        i += 5;
        if (this.remaining === 0 || !this.body) continue;
        // A whole inspected body inside this chunk is viewed, not copied.
        if (this.viewed) {
          i += this.remaining;
          this.remaining = 0;
          this.complete();
        }
        continue;
      }
      this.header[this.headerFill++] = chunk[i++] as number;
      if (this.headerFill === 5) {
        this.headerFill = 0;
        this.start(this.header[0] as number, this.header.readInt32BE(1));
      }
    }
  }

  private start(type: number, length: number, chunk?: Buffer, bodyAt = 0): void {
    this.type = type;
    this.remaining = Math.max(0, length - 4);
    this.viewed = false;
    if (INSPECTED.has(type) && this.remaining <= MAX_INSPECTED_BODY) {
      if (chunk && chunk.length - bodyAt >= this.remaining) {
        this.body = chunk.subarray(bodyAt, bodyAt + this.remaining);
        this.viewed = true;
      } else {
        this.body = Buffer.allocUnsafe(this.remaining);
      }
    } else {
      this.body = undefined;
    }
    this.bodyFill = 0;
    if (this.remaining === 0) this.complete();
  }

  private complete(): void {
    const body = this.body;
    this.body = undefined;
    this.onFrame(this.type, body);
  }
}
