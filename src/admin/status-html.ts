/**
 * The status page's HTML: plain markup and inline style, no script (the CSP allows none). Every value is escaped.
 */
import type { SignInStatus, StatusReport } from './status-report.js';

const esc = (s: string | number | undefined): string =>
  String(s ?? '').replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

function until(iso: string | undefined): string {
  if (!iso) return '';
  const mins = Math.round((Date.parse(iso) - Date.now()) / 60_000);
  return `${esc(iso)} (${mins >= 0 ? `in ${mins} min` : `${-mins} min ago`})`;
}

function signInRow(s: SignInStatus, token: string): string {
  const state = s.pending
    ? `<b>signing in</b> — finish at <a href="${esc(s.pending.url)}" rel="noreferrer">${esc(s.pending.url)}</a>${s.pending.userCode ? ` with code <code>${esc(s.pending.userCode)}</code>` : ''}`
    : s.signedIn ? `<b class="ok">signed in</b>${s.who ? ` as <b>${esc(s.who)}</b>` : ''} until ${until(s.expiresAt)}${s.renewable ? ', renewed automatically' : ''}`
      : '<b class="bad">not signed in</b>';
  const button = `<form method="post" action="/sign-in"><input type="hidden" name="token" value="${esc(token)}">` +
    `<input type="hidden" name="signIn" value="${s.id}"><button type="submit">${s.signedIn ? 'Sign in again' : 'Sign in'}</button></form>`;
  return `<tr><td>${esc(s.label)}<br><small>${esc(s.startUrl)} (${esc(s.region)})</small></td><td>${state}` +
    `${s.lastError ? `<br><span class="bad">${esc(s.lastError)}</span>` : ''}</td><td>${esc(s.listeners.join(', '))}</td><td>${button}</td></tr>`;
}

export function renderStatusPage(r: StatusReport, token: string): string {
  const rows = (items: readonly string[], empty: string, cols: number): string =>
    items.length > 0 ? items.join('') : `<tr><td colspan="${cols}"><i>${esc(empty)}</i></td></tr>`;
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>redshift-auth-proxy status</title>
<meta http-equiv="refresh" content="15">
<style>body{font:14px system-ui,sans-serif;margin:2em;color:#222}table{border-collapse:collapse;margin-bottom:1.5em;width:100%}
td,th{border:1px solid #ccc;padding:.4em .6em;text-align:left;vertical-align:top}th{background:#f3f3f3}.ok{color:#17692b}.bad{color:#b00020}
form{margin:0}code{background:#f3f3f3;padding:0 .2em}</style></head><body>
<h1>redshift-auth-proxy</h1><p>${esc(r.openSessions)} open session(s) · as of ${esc(r.generatedAt)} · <a href="/status">JSON</a></p>
<h2>IAM Identity Center sign-in</h2>
<table id="sign-ins"><tr><th>Sign-in</th><th>State</th><th>Used by</th><th></th></tr>
${rows(r.signIns.map((s) => signInRow(s, token)), 'No listener signs in through IAM Identity Center.', 4)}</table>
<h2>Listeners</h2>
<table id="listeners"><tr><th>Listener</th><th>Target</th><th>Profile</th><th>Database user</th><th>Open sessions</th></tr>
${rows(r.listeners.map((l) => `<tr><td>${esc(l.name)}</td><td>${esc(l.target)}</td><td>${esc(l.profile ?? '(default chain)')}</td><td>${esc(l.databaseUser)}</td><td>${esc(l.openSessions)}</td></tr>`), 'No listeners.', 5)}</table>
<h2>Database credentials</h2>
<table id="credentials"><tr><th>Identity</th><th>Expires</th></tr>
${rows(r.credentials.map((c) => `<tr><td>${esc(c.identity)}</td><td>${until(c.expiresAt)}</td></tr>`), 'None cached yet: they are fetched at the first connection.', 2)}</table>
<h2>Last errors</h2>
<table id="errors"><tr><th>When</th><th>Listener</th><th>SQLSTATE</th><th>Message and hint</th></tr>
${rows(r.lastErrors.map((e) => `<tr><td>${esc(e.at)}</td><td>${esc(e.listener)}</td><td>${esc(e.code)}</td><td>${esc(e.message)}${e.hint ? `<br><small>${esc(e.hint)}</small>` : ''}</td></tr>`), 'None.', 4)}</table>
</body></html>
`;
}
