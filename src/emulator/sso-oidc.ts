/**
 * IAM Identity Center's OIDC service (`sso-oauth`, the SDK's `@aws-sdk/client-sso-oidc`), as far as a sign-in
 * needs it: RegisterClient, StartDeviceAuthorization and CreateToken for the authorization-code (PKCE), device-code
 * and refresh-token grants. REST-JSON and unsigned, as at AWS: the client secret and the codes are the proof.
 * https://docs.aws.amazon.com/singlesignon/latest/OIDCAPIReference/Welcome.html
 *
 * Facts this follows:
 * - `POST /client/register` → clientId, clientSecret, clientIdIssuedAt, clientSecretExpiresAt (epoch seconds; 90
 *   days). Only `public` clients. A client registered for the authorization-code grant lists its redirect URIs; a
 *   loopback URI matches whatever port the sign-in listens on (RFC 8252 §7.3).
 * - `POST /device_authorization` → deviceCode, userCode, verificationUri(Complete), expiresIn, interval (seconds).
 * - `POST /token`: errors are HTTP 400/401 with `X-Amzn-ErrorType` naming the modeled exception and a body of
 *   `{"error": "authorization_pending", "error_description": "…"}` (RFC 8628 §3.5 / RFC 6749 §5.2 codes).
 *   Polling faster than `interval` is `SlowDownException` and adds 5 s to the interval (RFC 8628 §3.5).
 * - PKCE: only `S256`; the verifier must hash (SHA-256, base64url without padding) to the challenge (RFC 7636 §4.6).
 * - A refresh token is used once: the answer carries a new one and the old one stops working (rotation). A used or
 *   revoked refresh token is `InvalidGrantException`.
 * The browser pages (/authorize, /device) live in sso-oidc-pages.ts, the records kept and their pure checks in
 * sso-oidc-records.ts; this file is the service both pages and the wire (sso-oidc-wire.ts) call.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { ApiFault } from './faults.js';
import { invalidGrant, invalidRequest } from './sso-oidc-members.js';
import type { Members } from './sso-oidc-members.js';
import { CLIENT_LIFETIME_S, CODE_LIFETIME_MS, DEVICE_GRANT, code4, pkceMatches, redirectMatches, splitScopes } from './sso-oidc-records.js';
import type { AuthorizationRequest, Client, CodeGrant, DeviceGrant, Grant, TokenAnswer, TokenRecord } from './sso-oidc-records.js';
import type { IdentityCenterConfig, IssuedToken, SsoUserConfig } from './types.js';

export { DEVICE_GRANT } from './sso-oidc-records.js';
export type { AuthorizationRequest, TokenAnswer } from './sso-oidc-records.js';

export class IdentityCenterOidc {
  /** Approvals given in a browser page (authorization code or device code), for tests counting sign-ins. */
  approvals = 0;
  private readonly clients = new Map<string, Client>();
  private readonly pending = new Map<string, AuthorizationRequest>();
  private readonly codes = new Map<string, CodeGrant>();
  private readonly devices = new Map<string, DeviceGrant>();
  private readonly tokens = new Map<string, TokenRecord>();
  private readonly refreshTokens = new Map<string, TokenRecord & { used: boolean }>();
  private readonly revokedFamilies = new Set<string>();

  constructor(private readonly config: IdentityCenterConfig) {}

  get users(): readonly SsoUserConfig[] {
    return this.config.users;
  }

  get autoApprove(): boolean {
    return this.config.autoApprove === true;
  }

  registerClient(input: Members): Record<string, unknown> {
    const clientType = input.string('clientType');
    if (input.string('clientName') === undefined) throw invalidRequest('clientName is required');
    if (clientType !== 'public') throw new ApiFault('InvalidClientMetadataException', 400, 'Only public clients are supported',
      { error: 'invalid_client_metadata' });
    const grantTypes = input.list('grantTypes') ?? [DEVICE_GRANT, 'refresh_token'];
    const redirectUris = input.list('redirectUris') ?? [];
    if (grantTypes.includes('authorization_code') && redirectUris.length === 0) {
      throw new ApiFault('InvalidRedirectUriException', 400, 'redirectUris are required for authorization_code',
        { error: 'invalid_redirect_uri' });
    }
    const now = Math.floor(Date.now() / 1000);
    const client: Client = { id: `client-${randomUUID()}`, secret: randomBytes(48).toString('base64url'),
      scopes: input.list('scopes') ?? [], grantTypes, redirectUris, expiresAt: now + CLIENT_LIFETIME_S };
    this.clients.set(client.id, client);
    return { clientId: client.id, clientSecret: client.secret, clientIdIssuedAt: now, clientSecretExpiresAt: client.expiresAt };
  }

  startDeviceAuthorization(input: Members, baseUrl: string): Record<string, unknown> {
    const client = this.client(input.string('clientId'), input.string('clientSecret'));
    if (input.string('startUrl') === undefined) throw invalidRequest('startUrl is required');
    const deviceCode = randomBytes(32).toString('base64url');
    const userCode = `${code4()}-${code4()}`;
    const expiresIn = this.config.deviceCodeSeconds ?? 600;
    const interval = this.config.pollIntervalSeconds ?? 1;
    const grant: DeviceGrant = { clientId: client.id, userCode, scopes: client.scopes, expiresAt: Date.now() + expiresIn * 1000,
      interval, lastPoll: 0 };
    if (this.autoApprove) grant.decision = { user: this.defaultUser() };
    this.devices.set(deviceCode, grant);
    return { deviceCode, userCode, verificationUri: `${baseUrl}/device`,
      verificationUriComplete: `${baseUrl}/device?user_code=${userCode}`, expiresIn, interval };
  }

  createToken(input: Members): TokenAnswer {
    const client = this.client(input.string('clientId'), input.string('clientSecret'));
    const grantType = input.string('grantType');
    if (grantType === undefined || !client.grantTypes.includes(grantType)) {
      throw new ApiFault('UnsupportedGrantTypeException', 400, `grant type ${grantType ?? '(none)'} is not registered for this client`,
        { error: 'unsupported_grant_type' });
    }
    switch (grantType) {
      case 'authorization_code': return this.redeemCode(client, input);
      case DEVICE_GRANT: return this.pollDevice(client, input.string('deviceCode'));
      case 'refresh_token': return this.redeemRefresh(client, input.string('refreshToken'));
      default:
        throw new ApiFault('UnsupportedGrantTypeException', 400, `unsupported grant type ${grantType}`, { error: 'unsupported_grant_type' });
    }
  }

  /** The /authorize page's request, checked as AWS checks it; the page shows a consent form for the returned id. */
  beginAuthorization(q: URLSearchParams): AuthorizationRequest {
    const client = this.clients.get(q.get('client_id') ?? '');
    if (!client) throw invalidRequest('unknown client_id');
    const redirectUri = q.get('redirect_uri') ?? '';
    if (!client.redirectUris.some((registered) => redirectMatches(registered, redirectUri))) {
      throw invalidRequest('redirect_uri is not registered for this client');
    }
    if (q.get('response_type') !== 'code') throw invalidRequest('response_type must be code');
    if (q.get('code_challenge_method') !== 'S256') throw invalidRequest('code_challenge_method must be S256');
    const codeChallenge = q.get('code_challenge') ?? '';
    if (!/^[A-Za-z0-9_-]{43}$/.test(codeChallenge)) throw invalidRequest('code_challenge must be a base64url SHA-256');
    const scopes = splitScopes(q.getAll('scopes').concat(q.getAll('scope')));
    const request: AuthorizationRequest = { id: randomUUID(), clientId: client.id, redirectUri, state: q.get('state') ?? '',
      codeChallenge, scopes: scopes.length > 0 ? scopes : client.scopes };
    this.pending.set(request.id, request);
    return request;
  }

  /** The person's answer on the page: where the browser goes next (the loopback callback, with a code or an error). */
  decideAuthorization(id: string, allow: boolean, userName: string | undefined): string {
    const request = this.pending.get(id);
    if (!request) throw invalidRequest('this sign-in request is unknown or was already answered');
    this.pending.delete(id);
    const target = new URL(request.redirectUri);
    if (allow) {
      const user = this.userNamed(userName);
      const code = randomBytes(32).toString('base64url');
      this.codes.set(code, { clientId: request.clientId, user, scopes: request.scopes, redirectUri: request.redirectUri,
        codeChallenge: request.codeChallenge, expiresAt: Date.now() + CODE_LIFETIME_MS });
      this.approvals++;
      target.searchParams.set('code', code);
    } else {
      target.searchParams.set('error', 'access_denied');
      target.searchParams.set('error_description', 'The user denied the request');
    }
    target.searchParams.set('state', request.state);
    return target.toString();
  }

  /** The /device page's answer; false when no pending authorization has this user code. */
  decideDevice(userCode: string, allow: boolean, userName: string | undefined): boolean {
    const wanted = userCode.trim().toUpperCase();
    for (const grant of this.devices.values()) {
      if (grant.userCode === wanted && grant.decision === undefined && grant.expiresAt > Date.now()) {
        grant.decision = allow ? { user: this.userNamed(userName) } : 'denied';
        if (allow) this.approvals++;
        return true;
      }
    }
    return false;
  }

  /** An access token this service issued, while it is valid (and carries `scope`, when given). */
  validate(accessToken: string, scope?: string): IssuedToken | undefined {
    const t = this.tokens.get(accessToken);
    if (!t || t.expiresAt.getTime() <= Date.now() || this.revokedFamilies.has(t.family)) return undefined;
    if (scope !== undefined && !t.scopes.includes(scope)) return undefined;
    return { userName: t.user.userName, user: t.user, scopes: t.scopes, clientId: t.clientId, expiresAt: t.expiresAt };
  }

  /** The portal's Logout: the token and every refresh token of its sign-in stop working. */
  logout(accessToken: string): boolean {
    const t = this.tokens.get(accessToken);
    if (!t || this.revokedFamilies.has(t.family)) return false;
    this.revokedFamilies.add(t.family);
    return true;
  }

  /** An administrator ends every sign-in (of one user, or all): access and refresh tokens stop working. */
  revoke(userName?: string): void {
    for (const t of this.tokens.values()) if (userName === undefined || t.user.userName === userName) this.revokedFamilies.add(t.family);
  }

  /** Every access token issued so far expires now (their refresh tokens still work): expiry tests in no time. */
  expireAccessTokens(): void {
    for (const [key, t] of this.tokens) this.tokens.set(key, { ...t, expiresAt: new Date(Date.now() - 1000) });
  }

  private redeemCode(client: Client, input: Members): TokenAnswer {
    const code = input.string('code') ?? '';
    const grant = this.codes.get(code);
    this.codes.delete(code);
    if (!grant || grant.clientId !== client.id || grant.expiresAt <= Date.now()) throw invalidGrant('the authorization code is invalid or expired');
    if (input.string('redirectUri') !== grant.redirectUri) throw invalidGrant('redirectUri does not match the authorization request');
    const verifier = input.string('codeVerifier') ?? '';
    if (!pkceMatches(verifier, grant.codeChallenge)) {
      throw invalidGrant('the code verifier does not match the code challenge');
    }
    return this.issue(client, grant, randomUUID());
  }

  private pollDevice(client: Client, deviceCode: string | undefined): TokenAnswer {
    const grant = this.devices.get(deviceCode ?? '');
    if (!grant || grant.clientId !== client.id) throw invalidGrant('unknown device code');
    const now = Date.now();
    if (grant.expiresAt <= now) {
      this.devices.delete(deviceCode ?? '');
      throw new ApiFault('ExpiredTokenException', 400, 'the device code has expired', { error: 'expired_token' });
    }
    if (grant.decision === 'denied') {
      this.devices.delete(deviceCode ?? '');
      throw new ApiFault('AccessDeniedException', 400, 'the user denied the request', { error: 'access_denied' });
    }
    if (grant.decision !== undefined) {
      this.devices.delete(deviceCode ?? '');
      return this.issue(client, { clientId: client.id, user: grant.decision.user, scopes: grant.scopes }, randomUUID());
    }
    const early = grant.lastPoll > 0 && now - grant.lastPoll < grant.interval * 1000;
    grant.lastPoll = now;
    if (early) {
      grant.interval += 5;
      throw new ApiFault('SlowDownException', 400, 'polling too fast; wait the interval between requests', { error: 'slow_down' });
    }
    throw new ApiFault('AuthorizationPendingException', 400, 'the user has not yet approved the request',
      { error: 'authorization_pending' });
  }

  private redeemRefresh(client: Client, refreshToken: string | undefined): TokenAnswer {
    const old = this.refreshTokens.get(refreshToken ?? '');
    if (!old || old.clientId !== client.id || old.used || this.revokedFamilies.has(old.family)) {
      throw invalidGrant('the refresh token is invalid, used or revoked');
    }
    old.used = true;
    return this.issue(client, old, old.family);
  }

  private issue(client: Client, grant: Grant, family: string): TokenAnswer {
    const expiresIn = this.config.accessTokenSeconds ?? 3600;
    const record: TokenRecord = { userName: grant.user.userName, user: grant.user, scopes: grant.scopes, clientId: client.id,
      expiresAt: new Date(Date.now() + expiresIn * 1000), family };
    const accessToken = `aoa${randomBytes(48).toString('base64url')}`;
    this.tokens.set(accessToken, record);
    if (!client.grantTypes.includes('refresh_token')) return { accessToken, tokenType: 'Bearer', expiresIn };
    const refreshToken = `aor${randomBytes(48).toString('base64url')}`;
    this.refreshTokens.set(refreshToken, { ...record, used: false });
    return { accessToken, tokenType: 'Bearer', expiresIn, refreshToken };
  }

  private client(id: string | undefined, secret: string | undefined): Client {
    const client = this.clients.get(id ?? '');
    if (!client || client.secret !== secret || client.expiresAt * 1000 <= Date.now()) {
      throw new ApiFault('InvalidClientException', 401, 'the client is unknown, its secret is wrong or its registration expired',
        { error: 'invalid_client' });
    }
    return client;
  }

  private defaultUser(): SsoUserConfig {
    const user = this.config.users[0];
    if (!user) throw new ApiFault('InternalServerException', 500, 'the emulator has no Identity Center users');
    return user;
  }

  private userNamed(userName: string | undefined): SsoUserConfig {
    return this.config.users.find((u) => u.userName === userName) ?? this.defaultUser();
  }
}
