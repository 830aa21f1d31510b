/**
 * The narrow edge to wherever IAM Identity Center tokens come from for an IdC listener: the sign-in (one shared
 * sign-in for every waiting client) or --idc-token-command. The target is its only caller.
 */
import type { CredentialRequest } from './credential-source.js';
import type { IdcToken } from './idc-token.js';
import { IdcTokenCommand } from './idc-token-command.js';
import { IdcSignInSource } from './idc-sign-in-source.js';
import type { TokenProvider } from '../signin/index.js';
import type { IdcTokenSource } from './idc-token-contract.js';

export type { IdcTokenSource } from './idc-token-contract.js';

/** What an IdC listener's token source is made from (validate-config.ts has checked the settings). */
export interface IdcSettings {
  readonly idcTokenCommand?: string | undefined;
  readonly idcIssuerUrl?: string | undefined;
  readonly idcRegion?: string | undefined;
  readonly idcDisplayName?: string | undefined;
}

/** --idc-token-command when given, else the sign-in for --idc-issuer-url in --idc-region (shared by every listener). */
export function idcTokenSourceFor(settings: IdcSettings, signIn: TokenProvider | undefined, waitMs?: number): IdcTokenSource {
  if (settings.idcTokenCommand !== undefined) return new IdcTokenCommand({ command: settings.idcTokenCommand });
  if (settings.idcIssuerUrl === undefined || settings.idcRegion === undefined) {
    throw new Error('an Identity Center listener needs --idc-issuer-url and --idc-region, or --idc-token-command');
  }
  if (!signIn) throw new Error('no IAM Identity Center sign-in is available here: give --idc-token-command');
  return new IdcSignInSource(settings.idcIssuerUrl, settings.idcRegion, signIn, settings.idcDisplayName, waitMs);
}
