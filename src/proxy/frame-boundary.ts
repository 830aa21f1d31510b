/**
 * Watches a relayed byte stream for message boundaries without copying or re-encoding it: only the 5-byte
 * headers (type byte + int32 length, which counts itself) are read, and the first body byte of ReadyForQuery
 * (the transaction status). Lets the proxy know whether it may inject a message of its own (an ErrorResponse on
 * upstream loss) without corrupting one in flight.
 */
import { BackendCode } from '../protocol/codes.js';

export class FrameBoundary {
  /** Body bytes of the current frame still to pass. */
  private remaining = 0;
  /** Header bytes collected so far (a header may be split across chunks). */
  private headerFill = 0;
  private readonly header = Buffer.alloc(5);
  private wantStatus = false;
  /** Transaction status of the last ReadyForQuery seen ('I', 'T' or 'E'), 0 before the first. */
  lastStatus = 0;
  /** Complete frames seen. */
  frames = 0;

  /** @param onReadyForQuery called with the status byte of every ReadyForQuery (session tracking). */
  constructor(private readonly onReadyForQuery?: (status: number) => void) {}

  /** True between frames: nothing partial has been forwarded. */
  get atBoundary(): boolean {
    return this.remaining === 0 && this.headerFill === 0;
  }

  /**
   * Follows `chunk`. With `stopAtError`, stops where an ErrorResponse starts (at a frame boundary, its type byte
   * inside this chunk) and returns that offset, having followed only the bytes before it — the relay holds an error
   * back from there to see whether it is a FATAL announcing the connection's end. Returns -1 when it followed all.
   */
  observe(chunk: Buffer, stopAtError = false): number {
    let i = 0;
    const n = chunk.length;
    while (i < n) {
      if (stopAtError && this.remaining === 0 && this.headerFill === 0 && chunk[i] === BackendCode.ErrorResponse) return i;
      if (this.remaining > 0) {
        if (this.wantStatus) {
          this.lastStatus = chunk[i] as number;
          this.wantStatus = false;
          this.onReadyForQuery?.(this.lastStatus);
        }
        const take = Math.min(this.remaining, n - i);
        this.remaining -= take;
        i += take;
        if (this.remaining === 0) this.frames++;
        continue;
      }
      if (this.headerFill === 0 && n - i >= 5) {
        // Fast path: a whole header inside this chunk.
        this.startFrame(chunk[i] as number, chunk.readInt32BE(i + 1));
        i += 5;
        continue;
      }
      this.header[this.headerFill++] = chunk[i++] as number;
      if (this.headerFill === 5) {
        this.headerFill = 0;
        this.startFrame(this.header[0] as number, this.header.readInt32BE(1));
      }
    }
    return -1;
  }

  private startFrame(type: number, length: number): void {
    this.remaining = Math.max(0, length - 4);
    this.wantStatus = type === BackendCode.ReadyForQuery && this.remaining > 0;
    if (this.remaining === 0) this.frames++;
  }
}
