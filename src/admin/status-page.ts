/**
 * The status page of --http-listen: GET / (HTML), GET /status (JSON) and POST /sign-in (the "Sign in" button).
 * A local web surface with hostile neighbours, after tailscale's web client:
 * - every request must carry a Host header naming this server (127.0.0.1, localhost or [::1] with its port, or the
 *   configured host): a page on another site that rebinds its DNS name to 127.0.0.1 is refused (403);
 * - POST needs the per-process token embedded in the page (a random value made at start, never logged) and an
 *   Origin of this server: another site cannot make a visitor's browser start a sign-in (CSRF); 403 otherwise;
 * - answers carry a Content-Security-Policy without scripts and forbid framing;
 * - nothing shown is secret: expiries, names, ARNs and the texts clients were already sent.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../ops/logger.js';
import type { TokenProvider } from '../signin/index.js';
import { renderStatusPage } from './status-html.js';
import type { StatusReporter } from './status-report.js';

export const STATUS_PATHS = new Set(['/', '/status', '/sign-in']);
const MAX_FORM_BYTES = 4096;

const SECURITY_HEADERS = {
  'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  'x-frame-options': 'DENY',
  'x-content-type-options': 'nosniff',
  // same-origin, not no-referrer: with no-referrer browsers send `Origin: null` on the page's own form POST.
  'referrer-policy': 'same-origin',
  'cache-control': 'no-store',
} as const;

export class StatusPage {
  /** The per-process token a state-changing request must carry. */
  private readonly token = randomBytes(24).toString('base64url');
  private hosts = new Set<string>();

  constructor(private readonly reporter: StatusReporter, private readonly signIn: TokenProvider, private readonly log: Logger,
    private readonly configuredHost: string) {}

  /** Once listening: the Host values that name this server. */
  bind(address: AddressInfo): void {
    const port = address.port;
    const names = ['127.0.0.1', 'localhost', '[::1]'];
    if (this.configuredHost !== '0.0.0.0' && this.configuredHost !== '::') {
      names.push(this.configuredHost.includes(':') ? `[${this.configuredHost}]` : this.configuredHost);
    }
    this.hosts = new Set(names.map((h) => `${h}:${port}`.toLowerCase()));
  }

  async handle(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    const host = (req.headers.host ?? '').toLowerCase();
    if (!this.hosts.has(host)) return refuse(res, 403, `Host "${req.headers.host ?? ''}" is not this server: open http://127.0.0.1:${[...this.hosts][0]?.split(':').pop() ?? ''}/`);
    if (path === '/sign-in') {
      if (req.method !== 'POST') return refuse(res, 405, 'Sign in with the button on the status page (POST).');
      if (req.headers.origin !== `http://${host}`) return refuse(res, 403, 'This request did not come from the status page (Origin).');
      const form = new URLSearchParams(await readForm(req));
      if (!this.tokenMatches(form.get('token') ?? '')) return refuse(res, 403, 'The status page\'s token is missing or stale: reload the page.');
      const chosen = this.reporter.signIns()[Number(form.get('signIn') ?? -1)];
      if (!chosen) return refuse(res, 400, 'No such sign-in.');
      this.signIn.accessToken(chosen.target).catch((err: unknown) => {
        this.log.warn({ startUrl: chosen.target.startUrl, err: err instanceof Error ? err.message : String(err) }, 'sign-in from the status page failed');
      });
      res.writeHead(303, { ...SECURITY_HEADERS, location: '/' });
      res.end();
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') return refuse(res, 405, 'Only GET is served here.');
    const report = await this.reporter.report();
    if (path === '/status') {
      return answer(res, 200, 'application/json', `${JSON.stringify(report, null, 2)}\n`);
    }
    answer(res, 200, 'text/html; charset=utf-8', renderStatusPage(report, this.token));
  }

  private tokenMatches(given: string): boolean {
    const a = Buffer.from(given);
    const b = Buffer.from(this.token);
    return a.length === b.length && timingSafeEqual(a, b);
  }
}

function answer(res: ServerResponse, status: number, type: string, body: string): void {
  res.writeHead(status, { ...SECURITY_HEADERS, 'content-type': type, 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

function refuse(res: ServerResponse, status: number, message: string): void {
  answer(res, status, 'text/plain; charset=utf-8', `${message}\n`);
}

async function readForm(req: IncomingMessage): Promise<string> {
  let body = '';
  for await (const chunk of req) {
    body += String(chunk);
    if (body.length > MAX_FORM_BYTES) throw new Error('form too large');
  }
  return body;
}
