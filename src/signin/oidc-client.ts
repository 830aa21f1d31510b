/**
 * The SSO-OIDC client and this app's client registration. The endpoint is the SDK's own choice (AWS_ENDPOINT_URL_SSO_OIDC,
 * AWS_ENDPOINT_URL, else `https://oidc.<region>.amazonaws.com`) unless --aws-endpoint-url overrides it; the
 * browser's /authorize page lives on the same host, as at AWS.
 * A registration is reused from the CLI's cache until a day before it expires, and only if it allows the grant
 * this sign-in needs (the device flow's and the browser flow's registrations differ).
 */
import { RegisterClientCommand, SSOOIDCClient } from '@aws-sdk/client-sso-oidc';
import type { SignInTarget } from './sign-in-types.js';
import { REGISTERED_REDIRECT_URI } from './loopback-redirect.js';
import { cacheTimestamp, readRegistration, writeRegistration } from './token-cache.js';
import type { CachedRegistration } from './token-cache.js';

export const DEVICE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';
const REUSE_MARGIN_MS = 86_400_000;

export interface OidcSettings {
  /** --aws-endpoint-url: every AWS call, the OIDC one included, goes there. */
  readonly endpointUrl?: string | undefined;
  readonly env?: NodeJS.ProcessEnv | undefined;
}

export function oidcEndpoint(region: string, s: OidcSettings): string {
  const env = s.env ?? process.env;
  const url = s.endpointUrl ?? env.AWS_ENDPOINT_URL_SSO_OIDC ?? env.AWS_ENDPOINT_URL ?? `https://oidc.${region}.amazonaws.com`;
  return url.replace(/\/+$/, '');
}

export function oidcClient(region: string, s: OidcSettings): SSOOIDCClient {
  // The SDK may retry a dropped connection once; the flows own every other kind of waiting (polling, refresh).
  return new SSOOIDCClient({ region, endpoint: oidcEndpoint(region, s), maxAttempts: 2 });
}

export type Flow = 'authorization_code' | 'device_code';

/** A registration that allows `flow` (and refresh), from the cache or newly made and cached. */
export async function registration(client: SSOOIDCClient, target: SignInTarget, flow: Flow,
  env?: NodeJS.ProcessEnv): Promise<CachedRegistration> {
  const grant = flow === 'authorization_code' ? 'authorization_code' : DEVICE_GRANT;
  const cached = await readRegistration(target, env);
  const usable = cached !== undefined && Date.parse(cached.expiresAt) - Date.now() > REUSE_MARGIN_MS &&
    // The CLI's device-flow registrations list no grant types: those serve the device flow only.
    (cached.grantTypes === undefined ? flow === 'device_code' : cached.grantTypes.includes(grant));
  if (usable) return cached;
  const grantTypes = [grant, 'refresh_token'];
  const out = await client.send(new RegisterClientCommand({
    clientName: target.clientName ?? `redshift-auth-proxy-${target.sessionName ?? 'legacy'}`,
    clientType: 'public',
    scopes: [...target.scopes],
    grantTypes,
    ...(flow === 'authorization_code' ? { redirectUris: [REGISTERED_REDIRECT_URI], issuerUrl: target.startUrl } : {}),
  }));
  if (!out.clientId || !out.clientSecret || out.clientSecretExpiresAt === undefined) {
    throw new Error('IAM Identity Center answered RegisterClient without a client id, secret or expiry');
  }
  const fresh: CachedRegistration = { clientId: out.clientId, clientSecret: out.clientSecret,
    expiresAt: cacheTimestamp(new Date(out.clientSecretExpiresAt * 1000)), scopes: [...target.scopes], grantTypes };
  await writeRegistration(target, fresh, env);
  return fresh;
}
