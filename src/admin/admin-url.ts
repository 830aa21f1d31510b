/**
 * The URL a local client (the `wait` and `reload` commands, the container HEALTHCHECK) uses to reach the
 * operations endpoint at --http-listen: a wildcard host is reached on loopback.
 */
import type { HttpListenConfig } from '../config/config.js';

export function adminUrl(listen: HttpListenConfig, pathname: string): string {
  const host = listen.host === '0.0.0.0' || listen.host === '' ? '127.0.0.1' : listen.host === '::' ? '::1' : listen.host;
  return `http://${host.includes(':') ? `[${host}]` : host}:${listen.port}${pathname}`;
}
