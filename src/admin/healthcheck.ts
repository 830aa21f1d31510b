#!/usr/bin/env node
/**
 * The container's HEALTHCHECK: GET /healthz on the operations endpoint the proxy was told to serve
 * (REDSHIFT_AUTH_PROXY_HTTP_LISTEN, as the image sets it; a wildcard host is reached on loopback). Node's own
 * fetch, so the runtime image needs no curl. Exit 0 healthy, 1 not.
 */
import { parseHttpListen } from '../config/from-flags.js';

const listen = parseHttpListen(process.env.REDSHIFT_AUTH_PROXY_HTTP_LISTEN ?? '127.0.0.1:9090');
const host = listen.host === '0.0.0.0' || listen.host === '' ? '127.0.0.1' : listen.host === '::' ? '::1' : listen.host;
const url = `http://${host.includes(':') ? `[${host}]` : host}:${listen.port}/healthz`;

fetch(url, { signal: AbortSignal.timeout(2_000) }).then(
  (res) => {
    process.exitCode = res.ok ? 0 : 1;
  },
  (err: unknown) => {
    process.stderr.write(`healthcheck: ${url}: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
