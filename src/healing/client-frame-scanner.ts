/**
 * Watches a relayed byte stream (either direction) for message boundaries without altering it. Only the 5-byte
 * headers are read for most messages; the bodies of the few messages session tracking must understand are
 * copied aside as they pass — up to a per-type limit — and handed over whole. The relayed chunks are never rebuilt.
 */

/**
 * Called for each complete inspected message with its body as `data[start..end)` (a view into the observed chunk
 * when it arrived whole: no Buffer is made per message); `data` is absent when the body exceeded its type's limit.
 */
export type FrameHandler = (type: number, data: Buffer | undefined, start: number, end: number) => void;

/** Message type → largest body copied aside (0: not inspected). */
export type InspectLimits = Readonly<Record<string, number>>;

export class FrameScanner {
  private remaining = 0;
  private headerFill = 0;
  private readonly header = Buffer.alloc(5);
  private type = 0;
  private body: Buffer | undefined;
  private bodyFill = 0;
  /** The body is in the chunk being observed at this offset (it arrived whole), not copied: -1 when not. */
  private viewedAt = -1;
  private viewedChunk: Buffer | undefined;
  private inspecting = false;
  private bodyLength = 0;
  /** Body limit per type byte, -1 where the type is not inspected (a table: this runs for every relayed message). */
  private readonly limits = new Int32Array(256).fill(-1);

  constructor(limits: InspectLimits, private readonly onFrame: FrameHandler) {
    for (const [type, max] of Object.entries(limits)) this.limits[type.charCodeAt(0)] = max;
  }

  /** True between messages: nothing of a message has been seen without its end. */
  get atBoundary(): boolean {
    return this.remaining === 0 && this.headerFill === 0;
  }

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
        // A whole inspected body inside this chunk is read in place, not copied.
        if (this.viewedAt >= 0 && this.remaining > 0) {
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
    this.bodyLength = this.remaining;
    this.viewedAt = -1;
    this.body = undefined;
    const limit = this.limits[type] as number;
    this.inspecting = limit >= 0;
    if (this.inspecting && this.remaining <= limit) {
      if (chunk && chunk.length - bodyAt >= this.remaining) {
        this.viewedChunk = chunk;
        this.viewedAt = bodyAt;
      } else {
        this.body = Buffer.allocUnsafe(this.remaining);
      }
    }
    this.bodyFill = 0;
    if (this.remaining === 0) this.complete();
  }

  private complete(): void {
    if (!this.inspecting) return;
    if (this.viewedAt >= 0) {
      const chunk = this.viewedChunk as Buffer;
      const at = this.viewedAt;
      this.viewedAt = -1;
      this.viewedChunk = undefined;
      this.onFrame(this.type, chunk, at, at + this.bodyLength);
      return;
    }
    const body = this.body;
    this.body = undefined;
    this.onFrame(this.type, body, 0, body ? body.length : 0);
  }
}

/** Larger client bodies are not copied: the tracker then knows it could not read the statement. */
export const MAX_INSPECTED_BODY = 64 * 1024;
