/**
 * IAM Identity Center tokens for an IdC listener from the sign-in (src/signin): the token of the Identity Center
 * instance named by --idc-issuer-url/--idc-region with the `redshift:connect` scope — what the Redshift drivers'
 * BrowserIdcAuthPlugin registers for (RegisterClient with scopes redshift:connect and the issuer URL,
 * BrowserIdcAuthPlugin.java lines 372-379; browser_idc_auth_plugin.py lines 172-180). The TokenProvider answers
 * from the AWS CLI's token cache, refreshes it, or runs one sign-in shared by every waiting client; a token Redshift
 * refused is handed back as `refused`, so it is never returned again (a refresh or a new sign-in replaces it).
 */
import { SignInFailedError, SignInRequiredError } from '../signin/index.js';
import type { SignInTarget, TokenProvider } from '../signin/index.js';
import { ClientError } from '../protocol/client-error.js';
import { SqlState } from '../protocol/sqlstate.js';
import { IdcToken } from './idc-token.js';
import type { IdcTokenSource } from './idc-token-contract.js';

/** The scope of a token Redshift accepts (the drivers' REDSHIFT_IDC_CONNECT_SCOPE). */
export const REDSHIFT_SCOPE = 'redshift:connect';

export class IdcSignInSource implements IdcTokenSource {
  readonly action = 'IAM Identity Center sign-in';
  readonly refusalHint = 'Connect again: the proxy refreshes the Identity Center session or opens a new sign-in. '
    + 'If it keeps failing, check that your Identity Center user is assigned to the cluster\'s Identity Center application.';
  private readonly target: SignInTarget;
  /** The last token Redshift refused: the provider must not hand it out again. */
  private lastRefused: IdcToken | undefined;

  /** Logins waiting for a sign-in in progress: the session's and the dialer's timers hold off while there are any. */
  private waiting = 0;

  /**
   * @param displayName --idc-display-name: the application name on the consent page (RegisterClient clientName).
   * @param waitMs --sign-in-wait: how long a login waits for a sign-in in progress (0: not at all).
   */
  constructor(issuerUrl: string, region: string, private readonly provider: TokenProvider, displayName?: string,
    private readonly waitMs = 120_000) {
    this.target = { startUrl: issuerUrl, region, scopes: [REDSHIFT_SCOPE], ...(displayName !== undefined ? { clientName: displayName } : {}) };
  }

  keyFor(): string {
    return `idc-sign-in:${this.target.region}:${this.target.startUrl}`;
  }

  async token(signal?: AbortSignal, options: { readonly interactive?: boolean } = {}): Promise<IdcToken> {
    const refused = this.lastRefused?.value;
    // The wait is bounded by --sign-in-wait (and by the client): past it the client is told where to sign in.
    const wait = new AbortController();
    const timer = setTimeout(() => wait.abort(new Error('sign-in wait elapsed')), this.waitMs);
    const stop = signal ? AbortSignal.any([signal, wait.signal]) : wait.signal;
    this.waiting++;
    let got;
    try {
      got = await this.provider.accessToken(this.target, { signal: stop,
        interactive: options.interactive === false || this.waitMs === 0 ? false : undefined,
        ...(refused !== undefined ? { refused } : {}) });
    } catch (err) {
      throw this.explain(err, stop);
    } finally {
      this.waiting--;
      clearTimeout(timer);
    }
    if (got.accessToken === refused) {
      // A provider that cannot replace it (yet): better to say so than to send it again.
      throw new ClientError({ code: SqlState.InvalidAuthorizationSpecification,
        message: 'Redshift refused the IAM Identity Center token, and the sign-in has no other one yet',
        hint: 'Sign in again (redshift-auth-proxy login with the same issuer), then connect again.' });
    }
    return new IdcToken(got.accessToken, got.expiresAt, 'the sign-in');
  }

  /** A sign-in that did not give a token, as the client's ErrorResponse (a not-interactive miss passes through). */
  private explain(err: unknown, signal: AbortSignal | undefined): unknown {
    if (err instanceof ClientError || err instanceof SignInRequiredError) return err;
    const code = SqlState.InvalidAuthorizationSpecification;
    const pending = this.provider.pending(this.target);
    if (signal?.aborted && pending) {
      // The client's login time ran out while the person signs in: say where, the sign-in goes on for the next try.
      const enter = pending.userCode !== undefined ? ` and enter the code ${pending.userCode}` : '';
      return new ClientError({ code, message: `sign in to IAM Identity Center to connect: open ${pending.url}${enter}`,
        detail: pending.browserOpened ? 'The proxy opened this page in a browser and is waiting for the sign-in.'
          : 'No browser could be opened on the machine running the proxy; the page can be opened on any device.',
        hint: 'Finish the sign-in, then connect again: the proxy uses the new session without a restart.' }, { cause: err });
    }
    if (signal?.aborted) return err;
    if (err instanceof SignInFailedError) {
      return new ClientError({ code, message: err.reason === 'denied' ? 'the IAM Identity Center sign-in was refused in the browser'
        : `the IAM Identity Center sign-in was not completed: ${err.message}`,
      hint: 'Connect again to start a new sign-in.' }, { cause: err });
    }
    return new ClientError({ code, message: `the IAM Identity Center sign-in failed: ${err instanceof Error ? err.message : String(err)}`,
      hint: 'Check --idc-issuer-url and --idc-region (the Identity Center instance and its region), and that the proxy can reach IAM Identity Center.' },
    { cause: err });
  }

  /** True while a login waits on a sign-in in progress (a person in the browser), not on a cache read or refresh. */
  holdsLogins(): boolean {
    return this.waiting > 0 && this.provider.pending(this.target) !== undefined;
  }

  refused(token: IdcToken): void {
    this.lastRefused = token;
  }

  close(): void {}
}
