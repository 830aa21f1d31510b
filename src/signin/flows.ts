/**
 * The two interactive grants, as the AWS CLI runs them:
 * - authorization code with PKCE: a loopback listener, the browser on `<oidc>/authorize?…`, the code from the
 *   callback (state checked) traded with the verifier at CreateToken;
 * - device code: StartDeviceAuthorization, the person confirms the code on any device, CreateToken polled every
 *   `interval` seconds (5 more after each slow_down, RFC 8628 §3.5) until approved, denied or expired.
 * Each returns the CreateToken answer; a refusal is a SignInFailedError.
 */
import {
  AccessDeniedException, AuthorizationPendingException, CreateTokenCommand, ExpiredTokenException, SlowDownException,
  StartDeviceAuthorizationCommand,
} from '@aws-sdk/client-sso-oidc';
import type { CreateTokenCommandOutput, SSOOIDCClient } from '@aws-sdk/client-sso-oidc';
import { listenForRedirect } from './loopback-redirect.js';
import { DEVICE_GRANT } from './oidc-client.js';
import { newPkce } from './pkce.js';
import type { SignInPrompt, SignInTarget } from './sign-in-types.js';
import { SignInFailedError } from './sign-in-types.js';
import type { CachedRegistration } from './token-cache.js';

/** How long the browser flow waits for the callback, as the AWS CLI's AuthCodeFetcher (10 minutes). */
export const BROWSER_FLOW_MS = 10 * 60_000;

export interface FlowContext {
  readonly client: SSOOIDCClient;
  readonly target: SignInTarget;
  readonly registration: CachedRegistration;
  /** Tells the person what to do; returns once it is told. */
  readonly prompt: (p: SignInPrompt) => void;
  readonly signal: AbortSignal;
}

/** Runs the browser flow; `undefined` when no browser could be opened (the caller falls back to the device code). */
export async function authorizationCodeFlow(ctx: FlowContext, oidcEndpoint: string, port: number | undefined,
  open: (url: string) => Promise<boolean>): Promise<CreateTokenCommandOutput | undefined> {
  const pkce = newPkce();
  const redirect = await listenForRedirect(pkce.state, port);
  try {
    const q = new URLSearchParams({ response_type: 'code', client_id: ctx.registration.clientId,
      redirect_uri: redirect.redirectUri, state: pkce.state, code_challenge_method: 'S256', code_challenge: pkce.challenge,
      scopes: ctx.target.scopes.join(' ') });
    const url = `${oidcEndpoint}/authorize?${q}`;
    if (!(await open(url))) return undefined;
    ctx.prompt({ url, browserOpened: true, expiresAt: new Date(Date.now() + BROWSER_FLOW_MS) });
    const result = await redirect.wait(AbortSignal.any([ctx.signal, AbortSignal.timeout(BROWSER_FLOW_MS)]))
      .catch((err: unknown) => {
        if (ctx.signal.aborted) throw err;
        throw new SignInFailedError('the sign-in in the browser was not completed within 10 minutes', 'expired');
      });
    if ('error' in result) {
      throw new SignInFailedError(result.error === 'access_denied' ? 'the sign-in was refused in the browser'
        : `IAM Identity Center refused the sign-in (${result.error})`, result.error === 'access_denied' ? 'denied' : 'failed');
    }
    return await ctx.client.send(new CreateTokenCommand({ clientId: ctx.registration.clientId,
      clientSecret: ctx.registration.clientSecret, grantType: 'authorization_code', code: result.code,
      redirectUri: redirect.redirectUri, codeVerifier: pkce.verifier }));
  } finally {
    redirect.close();
  }
}

export async function deviceCodeFlow(ctx: FlowContext, open?: (url: string) => Promise<boolean>): Promise<CreateTokenCommandOutput> {
  const { client, registration: reg } = ctx;
  const auth = await client.send(new StartDeviceAuthorizationCommand({ clientId: reg.clientId, clientSecret: reg.clientSecret,
    startUrl: ctx.target.startUrl }));
  const url = auth.verificationUriComplete ?? auth.verificationUri ?? '';
  const expiresAt = new Date(Date.now() + (auth.expiresIn ?? 600) * 1000);
  const opened = open ? await open(url) : false;
  ctx.prompt({ url, userCode: auth.userCode, browserOpened: opened, expiresAt });
  let intervalMs = (auth.interval ?? 5) * 1000;
  for (;;) {
    await sleep(intervalMs, ctx.signal);
    if (Date.now() >= expiresAt.getTime()) throw new SignInFailedError('the device code expired before it was confirmed', 'expired');
    try {
      return await client.send(new CreateTokenCommand({ clientId: reg.clientId, clientSecret: reg.clientSecret,
        grantType: DEVICE_GRANT, deviceCode: auth.deviceCode }), { abortSignal: ctx.signal });
    } catch (err) {
      if (ctx.signal.aborted) throw ctx.signal.reason;
      if (err instanceof AuthorizationPendingException) continue;
      if (err instanceof SlowDownException) {
        intervalMs += 5_000;
        continue;
      }
      if (err instanceof AccessDeniedException) throw new SignInFailedError('the sign-in was refused on the device page', 'denied', { cause: err });
      if (err instanceof ExpiredTokenException) throw new SignInFailedError('the device code expired before it was confirmed', 'expired', { cause: err });
      throw err;
    }
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const t = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(t);
      reject(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
