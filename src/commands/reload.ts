/**
 * `reload`: asks the running proxy to re-read its config file (POST /reload on its operations endpoint, found as
 * `wait` finds it) and prints what changed, or every problem with its line. Exit 0 applied, 1 refused (the proxy
 * keeps its running configuration) or unreachable, 2 no endpoint to ask. Without --http-listen, `kill -HUP <pid>`
 * does the same and the outcome is in the log.
 */
import { adminUrl } from '../admin/admin-url.js';
import type { HttpListenConfig } from '../config/config.js';

interface Outcome {
  ok?: boolean;
  problems?: string[];
  added?: string[];
  removed?: string[];
  changed?: string[];
  unchanged?: string[];
  warnings?: string[];
  error?: string;
}

export async function runReload(listen: HttpListenConfig, out: NodeJS.WritableStream = process.stdout,
  err: NodeJS.WritableStream = process.stderr): Promise<number> {
  const url = adminUrl(listen, '/reload');
  let res: Response;
  try {
    res = await fetch(url, { method: 'POST', signal: AbortSignal.timeout(60_000) });
  } catch (e) {
    const cause = (e as { cause?: { code?: string; message?: string } }).cause;
    err.write(`redshift-auth-proxy reload: cannot reach ${url}: ${cause?.code ?? cause?.message ?? String(e)}\n`);
    return 1;
  }
  const body = await res.json().catch(() => ({})) as Outcome;
  if (body.ok === true) {
    const list = (name: string, v: string[] | undefined): string => (v && v.length > 0 ? `${name}: ${v.join(', ')}` : '');
    const parts = [list('added', body.added), list('removed', body.removed), list('changed', body.changed)].filter(Boolean);
    out.write(`reloaded: ${parts.length > 0 ? parts.join('; ') : 'no listener changed'}\n`);
    for (const w of body.warnings ?? []) out.write(`warning: ${w}\n`);
    return 0;
  }
  const problems = body.problems ?? [body.error ?? `HTTP ${res.status}`];
  err.write(`redshift-auth-proxy reload: refused; the proxy keeps its running configuration:\n${problems.map((p) => `  ${p}\n`).join('')}`);
  return 1;
}
