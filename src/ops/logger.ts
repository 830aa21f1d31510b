/**
 * The process logger (pino): JSON lines. Secrets never reach it: credentials redact themselves, and the paths
 * below are censored as a second line of defence.
 */
import { pino } from 'pino';
import type { DestinationStream, Logger } from 'pino';

export type { Logger };

export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino({
    level,
    base: { name: 'redshift-auth-proxy' },
    redact: {
      paths: ['password', '*.password', 'DbPassword', '*.DbPassword', 'secretAccessKey', '*.secretAccessKey',
        'sessionToken', '*.sessionToken'],
      censor: '[redacted]',
    },
  }, destination ?? pino.destination({ dest: 2, sync: false }));
}

/** A logger that drops everything, for tests and library use. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
