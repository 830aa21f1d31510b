import { UpstreamAuthError } from './auth-error.js';

/** Bounds-checked reads for server-sent bodies: a short or lying body becomes an UpstreamAuthError, not a RangeError. */
export class BodyReader {
  private at = 0;
  constructor(private readonly body: Buffer, private readonly what: string) {}

  int32(): number {
    this.need(4);
    const value = this.body.readInt32BE(this.at);
    this.at += 4;
    return value;
  }

  /** An int32 length followed by that many bytes. */
  sized(): Buffer {
    const length = this.int32();
    if (length < 0) throw this.malformed();
    this.need(length);
    const out = this.body.subarray(this.at, this.at + length);
    this.at += length;
    return out;
  }

  fixed(length: number): Buffer {
    this.need(length);
    const out = this.body.subarray(this.at, this.at + length);
    this.at += length;
    return out;
  }

  private need(n: number): void {
    if (this.at + n > this.body.length) throw this.malformed();
  }

  private malformed(): UpstreamAuthError {
    return new UpstreamAuthError(`Redshift sent a malformed ${this.what} request; the login was abandoned`);
  }
}
