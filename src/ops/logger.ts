/**
 * The process logger (pino). JSON lines for collectors when stderr is not a terminal; readable lines on one
 * (pino-pretty used as a plain in-process stream rather than a transport worker, so nothing is lost in a worker
 * thread at exit and a signal handler's last line still gets out). Secrets never reach it: credentials redact
 * themselves, and the paths below are censored as a second line of defence.
 */
import { pino } from 'pino';
import type { DestinationStream, Logger } from 'pino';
import pinoPretty from 'pino-pretty';

export type { Logger };

/** How log lines look: json lines, pretty lines, or auto (pretty on a terminal). */
export const LOG_FORMATS = ['auto', 'json', 'pretty'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

const REDACT = ['password', '*.password', 'DbPassword', '*.DbPassword', 'secretAccessKey', '*.secretAccessKey',
  'sessionToken', '*.sessionToken'];

/** json or pretty, from the configured format and whether stderr is a terminal. */
export function effectiveFormat(format: LogFormat | undefined, isTty = process.stderr.isTTY === true): 'json' | 'pretty' {
  if (format === 'json' || format === 'pretty') return format;
  return isTty ? 'pretty' : 'json';
}

/**
 * A logger writing to `destination` (JSON lines; tests pass a capture stream), or to stderr in the format asked
 * for (auto: pretty on a terminal).
 */
export function createLogger(level: string, destination?: DestinationStream, format?: LogFormat): Logger {
  const options = {
    level,
    base: { name: 'redshift-auth-proxy' },
    redact: { paths: REDACT, censor: '[redacted]' },
  };
  if (destination) return pino(options, destination);
  if (effectiveFormat(format) === 'pretty') {
    const pretty = pinoPretty({
      destination: 2,
      sync: true,
      colorize: process.stderr.isTTY === true,
      translateTime: 'SYS:HH:MM:ss.l',
      ignore: 'name,pid,hostname',
    });
    return pino(options, pretty);
  }
  // Buffered writes, flushed every second and synchronously at exit (pino registers that): one write per line was
  // a system call per session end, a tenth of the proxy's work when clients connect for one query each.
  return pino(options, pino.destination({ dest: 2, sync: false, minLength: 4096, periodicFlush: 1000 }));
}

/** A logger that drops everything, for tests and library use. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
