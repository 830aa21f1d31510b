/**
 * Who may ask the operations endpoint to change something (/quitquitquit, /reload): a process on this machine
 * (or in this pod's network namespace), talking to us by a loopback name, not a web page. The three checks:
 *  - the peer address is loopback: the endpoint may listen on 0.0.0.0 for the kubelet and Prometheus, but only
 *    a neighbour in the same network namespace may stop or reload the proxy (as cloud-sql-proxy's admin port);
 *  - the Host header names loopback: a DNS-rebinding page reaches 127.0.0.1 under its own name, which this refuses;
 *  - no cross-site browser request: an Origin other than our own address, or Sec-Fetch-Site other than
 *    same-origin/none, is a page in a browser on this machine trying a form POST, which needs no preflight.
 */
import type http from 'node:http';
import { isIP } from 'node:net';

export type GuardResult = { readonly ok: true } | { readonly ok: false; readonly status: number; readonly reason: string };

export function isLoopbackAddress(address: string | undefined): boolean {
  if (address === undefined) return false;
  const a = address.startsWith('::ffff:') ? address.slice(7) : address;
  return isIP(a) === 4 ? a.startsWith('127.') : a === '::1';
}

/** The host part of a Host header value ("127.0.0.1:9090", "[::1]:9090", "localhost"). */
function hostName(value: string): string {
  if (value.startsWith('[')) return value.slice(1, value.indexOf(']'));
  const colon = value.lastIndexOf(':');
  return colon >= 0 ? value.slice(0, colon) : value;
}

function isLoopbackName(host: string): boolean {
  const h = host.toLowerCase();
  return h === 'localhost' || h.endsWith('.localhost') || isLoopbackAddress(h);
}

/** Checks a state-changing request; the reason is safe to send back (it names no secret). */
export function guardLocalChange(req: http.IncomingMessage): GuardResult {
  if (!isLoopbackAddress(req.socket.remoteAddress)) {
    return { ok: false, status: 403, reason: 'only a process on this host (or in this pod) may do this: connect from loopback' };
  }
  const host = req.headers.host;
  if (host === undefined || !isLoopbackName(hostName(host))) {
    return { ok: false, status: 403, reason: 'the Host header must name loopback (127.0.0.1, [::1] or localhost)' };
  }
  const origin = req.headers.origin;
  if (origin !== undefined && origin !== `http://${host}`) {
    return { ok: false, status: 403, reason: 'cross-origin requests are refused' };
  }
  const site = req.headers['sec-fetch-site'];
  if (site !== undefined && site !== 'same-origin' && site !== 'none') {
    return { ok: false, status: 403, reason: 'cross-site requests are refused' };
  }
  return { ok: true };
}
