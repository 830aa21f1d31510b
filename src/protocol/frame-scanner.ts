/**
 * The one streaming walker of relayed bytes (either direction): follows message boundaries without altering or
 * copying the stream. Only the 5-byte headers (type byte + int32 length, which counts itself) are read for most
 * messages; the bodies of the types given an inspection limit — the few session tracking must understand — are
 * handed over whole (a view into the chunk when they arrived in one, else copied aside up to the limit). The relay
 * walks the server's bytes with it once (tracking's inspector rides along), and the client's. The relayed chunks
 * are never rebuilt. (protocol/frame-reader.ts is the other reader: it buffers whole frames where the proxy
 * itself answers.)
 */
import { BackendCode } from './codes.js';


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
  /** Complete messages followed so far. */
  frames = 0;

  constructor(limits: InspectLimits, private readonly onFrame: FrameHandler) {
    for (const [type, max] of Object.entries(limits)) this.limits[type.charCodeAt(0)] = max;
  }

  /** True between messages: nothing of a message has been seen without its end. */
  get atBoundary(): boolean {
    return this.remaining === 0 && this.headerFill === 0;
  }

  /**
   * Follows `chunk`. With `stopAtError`, stops where an ErrorResponse starts (at a message boundary, its type byte
   * inside this chunk) and returns that offset, having followed only the bytes before it — the relay holds an error
   * back from there to see whether it is a FATAL announcing the connection's end. Returns -1 when it followed all.
   */
  observe(chunk: Buffer, stopAtError = false): number {
    let i = 0;
    const n = chunk.length;
    while (i < n) {
      if (stopAtError && this.remaining === 0 && this.headerFill === 0 && chunk[i] === BackendCode.ErrorResponse) return i;
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
        const type = chunk[i] as number;
        // The big-endian length, read inline: this runs for every relayed message (a DataRow or CopyData each row).
        const length = ((chunk[i + 1] as number) << 24 | (chunk[i + 2] as number) << 16 | (chunk[i + 3] as number) << 8
          | (chunk[i + 4] as number));
        // Fastest path: a whole message not inspected inside this chunk — skip it (one that runs past the chunk's
        // end starts like any other, below).
        if (this.limits[type] === -1 && length >= 4 && i + 1 + length <= n) {
          this.frames++;
          i += 1 + length;
          continue;
        }
        // Fast path: a whole header inside this chunk.
        this.start(type, length, chunk, i + 5);
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
    return -1;
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
    this.frames++;
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
