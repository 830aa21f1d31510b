/**
 * The `sso-oauth` service's REST-JSON routes, as the SDK's SSOOIDCClient sends them: unsigned POSTs of a JSON body
 * to `/client/register`, `/device_authorization` and `/token`. Failures carry the modeled exception's name in
 * `X-Amzn-ErrorType` and the OAuth error in the body (`{"error": "slow_down", "error_description": "…"}`).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ApiFault } from './faults.js';
import { header, send } from './http.js';
import { Members } from './sso-oidc-members.js';
import type { IdentityCenterOidc } from './sso-oidc.js';
import { AUTHORIZE_PATH, DEVICE_PATH, answerPage } from './sso-oidc-pages.js';
import { SSO_LOGOUT_PATH } from './sso-portal.js';
import type { SsoPortal } from './sso-portal.js';
import { Actions } from './types.js';
import type { ActionName } from './types.js';

export const OIDC_ROUTES: Readonly<Record<string, ActionName>> = {
  '/client/register': Actions.RegisterClient,
  '/device_authorization': Actions.StartDeviceAuthorization,
  '/token': Actions.CreateToken,
};

export interface OidcAnswer {
  readonly status: number;
  readonly body: string;
  readonly errorType?: string | undefined;
  /** Request members worth logging (never a secret, code or token). */
  readonly params: Readonly<Record<string, unknown>>;
}

export function answerOidc(oidc: IdentityCenterOidc, action: ActionName, body: string, baseUrl: string): OidcAnswer {
  let params: Record<string, unknown> = {};
  try {
    const input = Members.parse(body);
    params = { clientName: input.string('clientName'), grantType: input.string('grantType'),
      scopes: input.list('scopes'), startUrl: input.string('startUrl') };
    for (const k of Object.keys(params)) if (params[k] === undefined) delete params[k];
    const out = action === Actions.RegisterClient ? oidc.registerClient(input)
      : action === Actions.StartDeviceAuthorization ? oidc.startDeviceAuthorization(input, baseUrl)
        : oidc.createToken(input);
    return { status: 200, body: JSON.stringify(out), params };
  } catch (err) {
    const fault = err instanceof ApiFault ? err : new ApiFault('InternalServerException', 500, 'internal error', { error: 'server_error' });
    return { status: fault.status, errorType: fault.code, params,
      body: JSON.stringify({ error: fault.members.error ?? 'invalid_request', error_description: fault.message }) };
  }
}

export interface IdentityCenterParts {
  readonly oidc: IdentityCenterOidc;
  readonly portal: SsoPortal;
  /** The emulator's own URL, for the verification URIs it hands out. */
  readonly baseUrl: string;
}

/**
 * Answers the Identity Center routes: the browser pages ('page'), the OIDC API and the portal's Logout (what was
 * answered, for the call log). Undefined: the request is not one of theirs.
 */
export function answerIdentityCenter(parts: IdentityCenterParts, req: IncomingMessage, res: ServerResponse, url: URL,
  body: string, requestId: string): 'page' | (OidcAnswer & { readonly action: ActionName }) | undefined {
  if (url.pathname === AUTHORIZE_PATH || url.pathname === DEVICE_PATH) {
    answerPage(parts.oidc, req, res, url, body);
    return 'page';
  }
  if (req.method !== 'POST') return undefined;
  const oidcAction = OIDC_ROUTES[url.pathname];
  let out: OidcAnswer & { readonly action: ActionName };
  if (url.pathname === SSO_LOGOUT_PATH) {
    out = { ...parts.portal.logout(header(req, 'x-amz-sso_bearer_token')), params: {}, action: Actions.Logout };
  } else if (oidcAction !== undefined) {
    out = { ...answerOidc(parts.oidc, oidcAction, body, parts.baseUrl), action: oidcAction };
  } else {
    return undefined;
  }
  send(res, out.status, 'json', out.body, requestId, {
    'content-type': 'application/json', ...(out.errorType !== undefined ? { 'x-amzn-errortype': out.errorType } : {}) });
  return out;
}
