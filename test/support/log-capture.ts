/**
 * Collects the proxy's log lines in memory so tests can read them — and check that no secret was ever logged.
 */
import { Writable } from 'node:stream';

export class LogCapture extends Writable {
  readonly lines: string[] = [];

  override _write(chunk: Buffer, _enc: BufferEncoding, done: (err?: Error | null) => void): void {
    for (const line of chunk.toString('utf8').split('\n')) if (line.length > 0) this.lines.push(line);
    done();
  }

  get text(): string {
    return this.lines.join('\n');
  }

  entries(): Array<Record<string, unknown>> {
    return this.lines.map((l) => JSON.parse(l) as Record<string, unknown>);
  }
}
