/**
 * What the demo prints while it runs: one short line per thing that happens, from each part, so a person watching
 * the terminal sees the proxy fetch a credential, the stand-in Redshift accept a TLS md5 login, and so on.
 *
 * The proxy's own pino JSON lines are turned into the same short form by a pino destination (no second logger
 * configuration to keep in step). Secrets never reach these lines: the proxy redacts its own, and the demo's parts
 * report user names and expiry times only.
 */
import type { DestinationStream } from 'pino';

export type Print = (line: string) => void;

const clock = (): string => new Date().toISOString().slice(11, 19);

/** A line from one part of the demo: `12:00:01  redshift  md5 login accepted …`. */
export function storyLine(print: Print, part: string, text: string): void {
  print(`${clock()}  ${part.padEnd(8)}  ${text}`);
}

/** Fields of a pino line that are plumbing, not part of the story. */
const PLUMBING = new Set(['level', 'time', 'pid', 'hostname', 'name', 'msg', 'v']);

/** A pino destination that prints each proxy log line as a story line: its message, then its fields as k=v. */
export function proxyLogDestination(print: Print): DestinationStream {
  return {
    write(line: string): void {
      let entry: Record<string, unknown>;
      try {
        entry = JSON.parse(line) as Record<string, unknown>;
      } catch {
        storyLine(print, 'proxy', line.trim());
        return;
      }
      const fields = Object.entries(entry)
        .filter(([k, v]) => !PLUMBING.has(k) && v !== undefined && v !== null && v !== '')
        .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`);
      storyLine(print, 'proxy', [String(entry.msg ?? ''), ...fields].join('  '));
    },
  };
}
