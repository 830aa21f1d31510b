/**
 * Where `wait` and `reload` find the running proxy's operations endpoint: --http-listen (or
 * REDSHIFT_AUTH_PROXY_HTTP_LISTEN, which yargs reads as the same flag), else httpListen in the --config file — read
 * even from a file with problems elsewhere, since the proxy itself reports those (for `reload`, that is the point).
 */
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import type { HttpListenConfig } from '../config/config.js';
import { parseHttpListen } from '../config/from-flags.js';
import { ConfigFileError, loadConfigFile } from '../config/load-file.js';

export interface AdminFlags {
  readonly httpListen?: string | undefined;
  readonly config?: string | undefined;
}

/** The httpListen of a config file that may not be valid as a whole; undefined when it cannot be read. */
function httpListenOf(file: string): HttpListenConfig | undefined {
  try {
    const value: unknown = (parse(readFileSync(file, 'utf8')) as { httpListen?: unknown } | null)?.httpListen;
    if (typeof value !== 'string' && typeof value !== 'number') return undefined;
    const listen = parseHttpListen(String(value));
    return Number.isInteger(listen.port) ? listen : undefined;
  } catch {
    return undefined;
  }
}

export function adminListen(flags: AdminFlags, command: string): { listen?: HttpListenConfig; problem?: string } {
  if (flags.httpListen !== undefined) return { listen: parseHttpListen(flags.httpListen) };
  if (flags.config === undefined) {
    return { problem: `${command} needs the operations endpoint the proxy serves: --http-listen HOST:PORT, `
      + 'REDSHIFT_AUTH_PROXY_HTTP_LISTEN, or --config FILE with httpListen' };
  }
  try {
    const listen = loadConfigFile(flags.config).config.httpListen;
    return listen ? { listen } : { problem: `${flags.config} has no httpListen: give --http-listen HOST:PORT` };
  } catch (err) {
    if (!(err instanceof ConfigFileError)) throw err;
    const listen = httpListenOf(flags.config);
    return listen ? { listen } : { problem: err.problems.join('\n') };
  }
}
