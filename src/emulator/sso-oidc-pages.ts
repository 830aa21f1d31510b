/**
 * The browser side of the emulator's Identity Center sign-in: the pages a person sees.
 * - `GET /authorize?…` (authorization code with PKCE): a consent form; `POST /authorize` with `decision=allow|deny`
 *   answers 302 to the app's loopback redirect URI with `code` and `state`, or with `error=access_denied`.
 *   With `autoApprove` the GET redirects at once, as a browser with a live IdC session does.
 * - `GET /device?user_code=…` (device code): a form to confirm the code; `POST /device` records the decision, which
 *   the app's next CreateToken poll sees.
 * The forms are plain HTML so that a test "browser" (a BROWSER script following the URL) can read the hidden fields
 * and submit them exactly as a person's click would.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ApiFault } from './faults.js';
import type { IdentityCenterOidc } from './sso-oidc.js';

export const AUTHORIZE_PATH = '/authorize';
export const DEVICE_PATH = '/device';

/** Answers a page request; the body of a POST is already read. */
export function answerPage(oidc: IdentityCenterOidc, req: IncomingMessage, res: ServerResponse, url: URL, body: string): void {
  try {
    if (url.pathname === AUTHORIZE_PATH) {
      if (req.method === 'GET') {
        const request = oidc.beginAuthorization(url.searchParams);
        if (oidc.autoApprove) return redirect(res, oidc.decideAuthorization(request.id, true, undefined));
        return html(res, 200, consentPage(oidc, request.id, request.scopes));
      }
      const form = new URLSearchParams(body);
      return redirect(res, oidc.decideAuthorization(form.get('request') ?? '', form.get('decision') === 'allow',
        form.get('user') ?? undefined));
    }
    if (req.method === 'GET') return html(res, 200, devicePage(oidc, url.searchParams.get('user_code') ?? ''));
    const form = new URLSearchParams(body);
    const allow = form.get('decision') === 'allow';
    const known = oidc.decideDevice(form.get('user_code') ?? '', allow, form.get('user') ?? undefined);
    if (!known) return html(res, 400, page('Code not recognised', '<p id="result">That code is unknown or has expired.</p>'));
    return html(res, 200, page(allow ? 'Request approved' : 'Request denied',
      `<p id="result">${allow ? 'Approved' : 'Denied'}. You can close this window.</p>`));
  } catch (err) {
    const message = err instanceof ApiFault ? err.message : 'the sign-in request could not be read';
    html(res, 400, page('Sign-in failed', `<p id="error">${escape(message)}</p>`));
  }
}

function consentPage(oidc: IdentityCenterOidc, requestId: string, scopes: readonly string[]): string {
  return page('Allow access?', `<form method="post" action="${AUTHORIZE_PATH}">
<input type="hidden" name="request" value="${escape(requestId)}">
<p>An application asks for: ${scopes.map((s) => `<code>${escape(s)}</code>`).join(', ') || '(no scopes)'}</p>
${userSelect(oidc)}
<button type="submit" name="decision" value="allow" id="allow">Allow access</button>
<button type="submit" name="decision" value="deny" id="deny">Deny</button>
</form>`);
}

function devicePage(oidc: IdentityCenterOidc, userCode: string): string {
  return page('Confirm the code', `<form method="post" action="${DEVICE_PATH}">
<label>Code <input name="user_code" value="${escape(userCode)}"></label>
${userSelect(oidc)}
<button type="submit" name="decision" value="allow" id="allow">Confirm and continue</button>
<button type="submit" name="decision" value="deny" id="deny">Deny</button>
</form>`);
}

function userSelect(oidc: IdentityCenterOidc): string {
  const options = oidc.users.map((u) => `<option value="${escape(u.userName)}">${escape(u.userName)}</option>`).join('');
  return `<label>Sign in as <select name="user">${options}</select></label>`;
}

function page(title: string, content: string): string {
  return `<!doctype html><html><head><meta charset="utf-8"><title>${escape(title)}</title></head>` +
    `<body><h1>AWS IAM Identity Center (emulator)</h1><h2>${escape(title)}</h2>${content}</body></html>`;
}

function html(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'content-length': Buffer.byteLength(body),
    'cache-control': 'no-store' });
  res.end(body);
}

function redirect(res: ServerResponse, location: string): void {
  res.writeHead(302, { location, 'content-length': 0, 'cache-control': 'no-store' });
  res.end();
}

function escape(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}
