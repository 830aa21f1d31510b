/**
 * The sign-in room's public shapes: what a caller asks for (a start URL or issuer, a region, scopes) and what it
 * gets (an access token and its expiry). Callers — the proxy's credential lookup, `login`, the IdC Redshift login
 * (scope `redshift:connect`) — ask a TokenProvider and share one sign-in per target.
 */

/** One IAM Identity Center sign-in: whose token, for what. */
export interface SignInTarget {
  /** The AWS access portal URL (`https://d-123.awsapps.com/start`) or an IdC issuer URL. */
  readonly startUrl: string;
  /** The Identity Center region (sso_region): where the OIDC service is called. */
  readonly region: string;
  /** OAuth scopes to register and sign in for: `sso:account:access` (the portal), `redshift:connect` (IdC apps). */
  readonly scopes: readonly string[];
  /**
   * The `sso-session` name, when the target came from one. It names the token's cache file exactly as the AWS
   * CLI and SDK do (sha1 of the session name), so they and the proxy share the sign-in.
   */
  readonly sessionName?: string | undefined;
  /**
   * The application name a new client registration gets (RegisterClient clientName), which the consent page shows:
   * --idc-display-name for IdC listeners, as the drivers' idc_client_display_name. Default: redshift-auth-proxy-….
   */
  readonly clientName?: string | undefined;
}

/** A usable access token. The token itself never goes to a log, an error or a status page. */
export interface AccessToken {
  readonly accessToken: string;
  readonly expiresAt: Date;
  /** Present when the sign-in granted one: how the token is renewed without the browser. */
  readonly refreshable: boolean;
}

/** What a person has to do to finish a sign-in in progress: the page to open, and the code for the device flow. */
export interface SignInPrompt {
  /** The page to open (with the code filled in, for the device flow). */
  readonly url: string;
  /** The device flow's user code (absent for the browser's authorization-code flow). */
  readonly userCode?: string | undefined;
  /** Whether a browser was opened on `url` (false: --no-browser, or no browser could be started). */
  readonly browserOpened: boolean;
  /** When this sign-in gives up. */
  readonly expiresAt: Date;
}

export interface TokenOptions {
  /**
   * May a new sign-in start (open a browser / print a device code)? Default true. With false, only a cached or
   * refreshed token is returned and otherwise SignInRequiredError is thrown.
   */
  readonly interactive?: boolean | undefined;
  /** This caller stops waiting (a client gave up); the shared sign-in goes on for the others. */
  readonly signal?: AbortSignal | undefined;
  /**
   * A token the service refused (revoked, signed out elsewhere) although its expiry is ahead: it is not returned
   * again; a refresh or a new sign-in replaces it.
   */
  readonly refused?: string | undefined;
}

/** The one question every caller asks. */
export interface TokenProvider {
  /** A valid token for target: from the cache, refreshed, or from one new sign-in shared by every concurrent caller. */
  accessToken(target: SignInTarget, options?: TokenOptions): Promise<AccessToken>;
  /** The sign-in in progress for target, if one is. */
  pending(target: SignInTarget): SignInPrompt | undefined;
}

/** No valid token, and a new sign-in was not allowed (interactive false). */
export class SignInRequiredError extends Error {
  override readonly name = 'SignInRequiredError';
}

/** The person refused in the browser, the sign-in timed out, or Identity Center said no. Nothing was cached. */
export class SignInFailedError extends Error {
  override readonly name = 'SignInFailedError';
  constructor(message: string, readonly reason: 'denied' | 'expired' | 'failed', options?: ErrorOptions) {
    super(message, options);
  }
}
