/**
 * `wait [--timeout S]`: for init steps and scripts: exits 0 as soon as the running proxy's /readyz answers 200,
 * 1 when it has not within the timeout (printing the last reason), 2 when there is no operations endpoint to ask.
 * The endpoint is found as `start` finds it: --http-listen, else REDSHIFT_AUTH_PROXY_HTTP_LISTEN, else httpListen
 * in the --config file. A proxy that is not up yet (connection refused) is simply asked again.
 */
import { adminUrl } from '../admin/admin-url.js';
import type { HttpListenConfig } from '../config/config.js';

export const DEFAULT_WAIT_SECONDS = 30;
/** Between two asks: short enough that an init step is released promptly, long enough not to busy a small host. */
const POLL_MS = 200;
const REQUEST_TIMEOUT_MS = 2_000;

export interface WaitOptions {
  readonly timeoutMs: number;
  readonly out?: NodeJS.WritableStream;
  readonly err?: NodeJS.WritableStream;
}

function reasonOf(body: string): string {
  try {
    const r = JSON.parse(body) as { shuttingDown?: boolean; listeners?: Array<{ listener: string; bound: boolean }>;
      targets?: Array<{ listener: string; ok: boolean; detail: string }> };
    if (r.shuttingDown) return 'the proxy is shutting down';
    const unbound = (r.listeners ?? []).filter((l) => !l.bound).map((l) => `listener ${l.listener} is not accepting`);
    const failing = (r.targets ?? []).filter((t) => !t.ok).map((t) => `${t.listener}: ${t.detail}`);
    return [...unbound, ...failing].join('; ') || body.trim();
  } catch {
    return body.trim().slice(0, 500);
  }
}

export async function runWait(listen: HttpListenConfig, options: WaitOptions): Promise<number> {
  const out = options.out ?? process.stdout;
  const err = options.err ?? process.stderr;
  const url = adminUrl(listen, '/readyz');
  const deadline = Date.now() + options.timeoutMs;
  let last = 'no answer yet';
  for (;;) {
    const left = deadline - Date.now();
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(Math.max(1, Math.min(REQUEST_TIMEOUT_MS, left))) });
      const body = await res.text();
      if (res.status === 200) {
        out.write(`ready: ${url}\n`);
        return 0;
      }
      last = `${res.status}: ${reasonOf(body)}`;
    } catch (e) {
      const cause = (e as { cause?: { code?: string; message?: string } }).cause;
      last = cause?.code ?? cause?.message ?? (e instanceof Error ? e.message : String(e));
    }
    if (Date.now() + POLL_MS >= deadline) break;
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
  err.write(`redshift-auth-proxy wait: not ready after ${options.timeoutMs / 1000} s at ${url}: ${last}\n`);
  return 1;
}
