/**
 * The TokenProvider: an IAM Identity Center access token per target, from the AWS CLI's cache, refreshed with the
 * refresh token before it expires, or from a new sign-in — one per target however many callers ask at once
 * (single flight: they all wait on the same browser tab or device code).
 *
 * Order, as the SDK's fromSso: a cached token valid for more than 5 minutes is used as is; inside that window it is
 * refreshed (CreateToken refresh_token; the answer's new refresh token replaces the old); if the refresh is refused
 * a new sign-in starts (when the caller allows one). The browser flow runs unless --no-browser is set or no browser
 * opens, in which case the device flow runs. A failed or refused sign-in caches nothing.
 */
import type { CreateTokenCommandOutput } from '@aws-sdk/client-sso-oidc';
import { CreateTokenCommand } from '@aws-sdk/client-sso-oidc';
import { openInBrowser } from './browser.js';
import { authorizationCodeFlow, deviceCodeFlow } from './flows.js';
import type { FlowContext } from './flows.js';
import { oidcClient, oidcEndpoint, registration } from './oidc-client.js';
import type { AccessToken, SignInPrompt, SignInTarget, TokenOptions, TokenProvider } from './sign-in-types.js';
import { SignInRequiredError } from './sign-in-types.js';
import { cacheTimestamp, readToken, tokenPath, writeToken } from './token-cache.js';
import type { CachedToken } from './token-cache.js';
import { raceAbort } from '../ops/race-abort.js';

/** Refresh inside this window before expiry (the SDK's EXPIRE_WINDOW_MS). */
export const REFRESH_WINDOW_MS = 5 * 60_000;

export interface SsoSignInOptions {
  /** --aws-endpoint-url for the OIDC calls (else the SDK's AWS_ENDPOINT_URL_SSO_OIDC / AWS's endpoint). */
  readonly endpointUrl?: string | undefined;
  /** --no-browser: the device code, printed, from the start. */
  readonly noBrowser?: boolean | undefined;
  /** --sign-in-port: the loopback redirect's port (default: any free one). */
  readonly port?: number | undefined;
  /** Where HOME, BROWSER, AWS_ENDPOINT_URL_* are read (default process.env). */
  readonly env?: NodeJS.ProcessEnv | undefined;
  /** Told about every new sign-in prompt (the proxy logs it, `login` prints it). */
  readonly onPrompt?: ((target: SignInTarget, prompt: SignInPrompt) => void) | undefined;
  /** Opens the browser (default: openInBrowser with BROWSER honoured). */
  readonly open?: ((url: string) => Promise<boolean>) | undefined;
}

interface Flight {
  readonly promise: Promise<AccessToken>;
  prompt?: SignInPrompt;
}

export class SsoSignIn implements TokenProvider {
  private readonly flights = new Map<string, Flight>();
  private readonly closing = new AbortController();
  /** Sign-ins completed in a browser or on a device page since start (not refreshes), for the status page and tests. */
  signIns = 0;

  constructor(private readonly options: SsoSignInOptions = {}) {}

  async accessToken(target: SignInTarget, options: TokenOptions = {}): Promise<AccessToken> {
    const key = tokenPath(target, this.options.env);
    const flying = this.flights.get(key);
    if (flying) return raceAbort(flying.promise, options.signal);
    const cached = await readToken(target, this.options.env);
    const usable = cached !== undefined && cached.accessToken !== options.refused;
    if (usable && Date.parse(cached.expiresAt) - Date.now() > REFRESH_WINDOW_MS) return asAccessToken(cached);
    const again = this.flights.get(key); // another caller may have started one while the file was read
    if (again) return raceAbort(again.promise, options.signal);
    const flight: { promise?: Promise<AccessToken>; prompt?: SignInPrompt } = {};
    const promise = this.obtain(target, cached, usable, options.interactive !== false, flight)
      .finally(() => this.flights.delete(key));
    flight.promise = promise;
    this.flights.set(key, flight as Flight);
    return raceAbort(promise, options.signal);
  }

  pending(target: SignInTarget): SignInPrompt | undefined {
    return this.flights.get(tokenPath(target, this.options.env))?.prompt;
  }

  /** What is cached for target, without refreshing or signing in (status, logout). */
  cached(target: SignInTarget): Promise<CachedToken | undefined> {
    return readToken(target, this.options.env);
  }

  /** Ends every sign-in in progress (shutdown). */
  close(): void {
    this.closing.abort(new Error('the proxy is shutting down'));
  }

  private async obtain(target: SignInTarget, cached: CachedToken | undefined, usable: boolean, interactive: boolean,
    flight: { prompt?: SignInPrompt }): Promise<AccessToken> {
    const client = oidcClient(target.region, this.options);
    if (cached?.refreshToken && cached.clientId && cached.clientSecret) {
      try {
        const out = await client.send(new CreateTokenCommand({ clientId: cached.clientId, clientSecret: cached.clientSecret,
          grantType: 'refresh_token', refreshToken: cached.refreshToken }), { abortSignal: this.closing.signal });
        return await this.store(target, out, { clientId: cached.clientId, clientSecret: cached.clientSecret,
          registrationExpiresAt: cached.registrationExpiresAt }, cached.refreshToken);
      } catch (err) {
        // Refused (revoked, expired session) or unreachable: a token still valid is better than none.
        if (usable && Date.parse(cached.expiresAt) > Date.now()) return asAccessToken(cached);
        if (!interactive) throw new SignInRequiredError('the IAM Identity Center session has expired and could not be refreshed', { cause: err });
      }
    } else if (cached && usable && Date.parse(cached.expiresAt) > Date.now()) {
      return asAccessToken(cached);
    }
    if (!interactive) throw new SignInRequiredError('nobody is signed in to IAM Identity Center for this start URL');
    const open = this.options.open ?? ((url: string) => openInBrowser(url, this.options.env));
    const useBrowser = this.options.noBrowser !== true;
    const reg = await registration(client, target, useBrowser ? 'authorization_code' : 'device_code', this.options.env);
    const ctx: FlowContext = { client, target, registration: reg, signal: this.closing.signal,
      prompt: (p) => {
        flight.prompt = p;
        this.options.onPrompt?.(target, p);
      } };
    let out: CreateTokenCommandOutput | undefined;
    let used = reg;
    if (useBrowser) out = await authorizationCodeFlow(ctx, oidcEndpoint(target.region, this.options), this.options.port, open);
    if (out === undefined) {
      used = useBrowser ? await registration(client, target, 'device_code', this.options.env) : reg;
      out = await deviceCodeFlow({ ...ctx, registration: used });
    }
    this.signIns++;
    return this.store(target, out, { clientId: used.clientId, clientSecret: used.clientSecret,
      registrationExpiresAt: used.expiresAt }, undefined);
  }

  /** Writes the CLI's token file (refresh token and registration included) and returns the token. */
  private async store(target: SignInTarget, out: CreateTokenCommandOutput,
    reg: { clientId: string; clientSecret: string; registrationExpiresAt?: string | undefined },
    previousRefresh: string | undefined): Promise<AccessToken> {
    if (!out.accessToken || out.expiresIn === undefined) throw new Error('IAM Identity Center answered CreateToken without a token');
    const token: CachedToken = {
      startUrl: target.startUrl, region: target.region, accessToken: out.accessToken,
      expiresAt: cacheTimestamp(new Date(Date.now() + out.expiresIn * 1000)),
      clientId: reg.clientId, clientSecret: reg.clientSecret, registrationExpiresAt: reg.registrationExpiresAt,
      refreshToken: out.refreshToken ?? previousRefresh,
    };
    await writeToken(target, token, this.options.env);
    return asAccessToken(token);
  }
}

function asAccessToken(t: CachedToken): AccessToken {
  return { accessToken: t.accessToken, expiresAt: new Date(t.expiresAt), refreshable: t.refreshToken !== undefined };
}
