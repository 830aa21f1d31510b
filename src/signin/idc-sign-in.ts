/**
 * The sign-in IdC listeners share: one SsoSignIn (one flight per issuer, the AWS CLI's token cache) when some
 * listener logs in with Redshift's own IAM Identity Center integration and has no --idc-token-command.
 */
import type { Config } from '../config/config.js';
import { SsoSignIn } from './sso-sign-in.js';

export function idcSignInFor(config: Config, env?: NodeJS.ProcessEnv): SsoSignIn | undefined {
  const idc = config.listeners.map((l) => l.target).filter((t) => t.idcIssuerUrl !== undefined && t.idcTokenCommand === undefined);
  if (idc.length === 0) return undefined;
  // --aws-endpoint-url is per target; the OIDC endpoint is one per sign-in: the first IdC listener's.
  return new SsoSignIn({ endpointUrl: idc[0]?.awsEndpointUrl, env });
}
