/**
 * Framing, apart from decoding: collects bytes and hands out whole frames.
 *
 * Two frame shapes exist. Startup-phase frames (StartupMessage, SSLRequest, GSSENCRequest, CancelRequest) have
 * no type byte: int32 length (counting itself) then the body. Every later frame has a type byte, then an int32
 * length that counts itself but not the type byte. This reader is the one place that knows the difference.
 */

export interface Frame {
  /** The type byte, or -1 for an untyped startup-phase frame. */
  readonly type: number;
  /** The body after the length word (a view: the reader never writes into buffers it was given). */
  readonly body: Buffer;
  /** The whole frame, header included, as received. */
  readonly raw: Buffer;
}

export class FrameError extends Error {
  /**
   * @param silent PostgreSQL closes the connection without a word for this one (it only logs it): an invalid
   *   startup length — which is also what a Terminate sent before the startup packet looks like — or a
   *   CancelRequest of the wrong size. The client is not waiting for an answer it could read.
   */
  constructor(message: string, readonly silent = false) {
    super(message);
    this.name = 'FrameError';
  }
}

const EMPTY = Buffer.alloc(0);

export class FrameReader {
  private buffer: Buffer = EMPTY;

  /** @param maxFrame the largest frame length accepted; longer ones throw FrameError before being buffered. */
  constructor(private readonly maxFrame: number) {}

  push(chunk: Buffer): void {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
  }

  /** Bytes received but not yet returned as frames. */
  get buffered(): number {
    return this.buffer.length;
  }

  /** Returns and forgets every byte not yet framed (used when handing a connection over to the relay). */
  drain(): Buffer {
    const rest = this.buffer;
    this.buffer = EMPTY;
    return rest;
  }

  /** The next untyped startup-phase frame, or null until it has fully arrived. */
  nextUntyped(): Frame | null {
    if (this.buffer.length < 4) return null;
    const length = this.buffer.readInt32BE(0);
    // The smallest startup-phase frame is a length word and a request code.
    if (length < 8) throw new FrameError(`invalid startup packet length ${length}`, true);
    if (length > this.maxFrame) throw new FrameError(`startup packet of ${length} bytes exceeds the limit of ${this.maxFrame}`, true);
    if (this.buffer.length < length) return null;
    return this.take(-1, 4, length);
  }

  /** The next typed frame, or null until it has fully arrived. */
  nextTyped(): Frame | null {
    if (this.buffer.length < 5) return null;
    const type = this.buffer[0] as number;
    const length = this.buffer.readInt32BE(1);
    if (length < 4) throw new FrameError(`invalid message length ${length}`);
    if (length > this.maxFrame) throw new FrameError(`message of ${length} bytes exceeds the limit of ${this.maxFrame}`);
    if (this.buffer.length < 1 + length) return null;
    return this.take(type, 5, 1 + length);
  }

  private take(type: number, bodyStart: number, end: number): Frame {
    const raw = this.buffer.subarray(0, end);
    this.buffer = end === this.buffer.length ? EMPTY : this.buffer.subarray(end);
    return { type, body: raw.subarray(bodyStart), raw };
  }
}
