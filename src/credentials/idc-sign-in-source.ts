/**
 * IAM Identity Center tokens for an IdC listener from the sign-in (src/signin): the token of the Identity Center
 * instance named by --idc-issuer-url/--idc-region with the `redshift:connect` scope — what the Redshift drivers'
 * BrowserIdcAuthPlugin registers for (RegisterClient with scopes redshift:connect and the issuer URL,
 * BrowserIdcAuthPlugin.java lines 372-379; browser_idc_auth_plugin.py lines 172-180). The TokenProvider answers
 * from the AWS CLI's token cache, refreshes it, or runs one sign-in shared by every waiting client; a token Redshift
 * refused is handed back as `refused`, so it is never returned again (a refresh or a new sign-in replaces it).
 */
import type { SignInTarget, TokenProvider } from '../signin/index.js';
import { IdcToken } from './idc-token.js';
import type { IdcTokenSource } from './idc-token-source.js';

/** The scope of a token Redshift accepts (the drivers' REDSHIFT_IDC_CONNECT_SCOPE). */
export const REDSHIFT_SCOPE = 'redshift:connect';

export class IdcSignInSource implements IdcTokenSource {
  readonly action = 'IAM Identity Center sign-in';
  readonly refusalHint = 'Connect again: the proxy refreshes the Identity Center session or opens a new sign-in. '
    + 'If it keeps failing, check that your Identity Center user is assigned to the cluster\'s Identity Center application.';
  private readonly target: SignInTarget;
  /** The last token Redshift refused: the provider must not hand it out again. */
  private lastRefused: IdcToken | undefined;

  /** @param displayName --idc-display-name: the application name on the consent page (RegisterClient clientName). */
  constructor(issuerUrl: string, region: string, private readonly provider: TokenProvider, displayName?: string) {
    this.target = { startUrl: issuerUrl, region, scopes: [REDSHIFT_SCOPE], ...(displayName !== undefined ? { clientName: displayName } : {}) };
  }

  keyFor(): string {
    return `idc-sign-in:${this.target.region}:${this.target.startUrl}`;
  }

  async token(signal?: AbortSignal, options: { readonly interactive?: boolean } = {}): Promise<IdcToken> {
    const refused = this.lastRefused?.value;
    const got = await this.provider.accessToken(this.target, { signal, interactive: options.interactive,
      ...(refused !== undefined ? { refused } : {}) });
    if (got.accessToken === refused) {
      // A provider that cannot replace it yet (the option is new): better to say so than to send it again.
      throw new Error('IAM Identity Center returned the token Redshift just refused; sign in again');
    }
    return new IdcToken(got.accessToken, got.expiresAt, 'the sign-in');
  }

  refused(token: IdcToken): void {
    this.lastRefused = token;
  }

  close(): void {}
}
