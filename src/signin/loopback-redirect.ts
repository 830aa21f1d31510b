/**
 * The loopback redirect listener of the authorization-code flow (RFC 8252 §7.3): 127.0.0.1 only, on a free port
 * (or --sign-in-port), serving one path, `/oauth/callback`, as the AWS CLI does. The first callback with the right
 * `state` ends it: a code, or the error the browser was sent back with. A callback with another state is answered
 * 400 and ignored, so a page that guesses the port cannot end (or hijack) the sign-in.
 */
import { createServer } from 'node:http';
import type { Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export const CALLBACK_PATH = '/oauth/callback';
/** What RegisterClient is given: the loopback URI without a port, which any port matches. */
export const REGISTERED_REDIRECT_URI = `http://127.0.0.1${CALLBACK_PATH}`;

export type CallbackResult = { readonly code: string } | { readonly error: string; readonly description?: string | undefined };

export interface LoopbackRedirect {
  /** `http://127.0.0.1:<port>/oauth/callback`, for the authorize URL and CreateToken. */
  readonly redirectUri: string;
  /** The callback's answer; rejects with the signal's reason. */
  wait(signal: AbortSignal): Promise<CallbackResult>;
  close(): void;
}

export async function listenForRedirect(expectedState: string, port = 0): Promise<LoopbackRedirect> {
  let deliver: (r: CallbackResult) => void = () => undefined;
  const result = new Promise<CallbackResult>((resolve) => { deliver = resolve; });
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (req.method !== 'GET' || url.pathname !== CALLBACK_PATH) return page(res, 404, 'Not found.');
    if (url.searchParams.get('state') !== expectedState) {
      return page(res, 400, 'This sign-in link does not belong to the sign-in in progress. Start the sign-in again from your tool.');
    }
    const error = url.searchParams.get('error');
    const code = url.searchParams.get('code');
    if (error !== null) {
      page(res, 200, 'Sign-in was not completed. You can close this tab; your tool shows what happened.');
      deliver({ error, description: url.searchParams.get('error_description') ?? undefined });
    } else if (code !== null) {
      page(res, 200, 'Signed in. You can close this tab and return to your tool.');
      deliver({ code });
    } else {
      page(res, 400, 'The sign-in answer had neither a code nor an error.');
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const close = (): void => {
    server.close();
    server.closeAllConnections();
  };
  return {
    redirectUri: `http://127.0.0.1:${(server.address() as AddressInfo).port}${CALLBACK_PATH}`,
    wait: (signal) => new Promise<CallbackResult>((resolve, reject) => {
      if (signal.aborted) return reject(signal.reason);
      const onAbort = (): void => reject(signal.reason);
      signal.addEventListener('abort', onAbort, { once: true });
      void result.then((r) => {
        signal.removeEventListener('abort', onAbort);
        resolve(r);
      });
    }),
    close,
  };
}

function page(res: ServerResponse, status: number, text: string): void {
  const body = `<!doctype html><html><head><meta charset="utf-8"><title>redshift-auth-proxy sign-in</title></head>` +
    `<body><p>${text}</p></body></html>`;
  res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'content-length': Buffer.byteLength(body),
    'cache-control': 'no-store', connection: 'close' });
  res.end(body);
}
