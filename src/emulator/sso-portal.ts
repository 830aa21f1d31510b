/**
 * The IAM Identity Center (SSO) portal's one call the SDK makes for an SSO profile: `GetRoleCredentials`, which
 * trades the access token `aws sso login` left in ~/.aws/sso/cache for temporary keys of the profile's permission
 * set. REST-JSON, not SigV4-signed: the bearer token in `x-amz-sso_bearer_token` is the authentication.
 * https://docs.aws.amazon.com/singlesignon/latest/PortalAPIReference/API_GetRoleCredentials.html
 *
 * The SDK reaches it through AWS_ENDPOINT_URL_SSO. The keys belong to the role IAM Identity Center creates per
 * permission set, `arn:aws:sts::<account>:assumed-role/AWSReservedSSO_<PermissionSet>_<16 hex>/<user>`, so that
 * --with-iam logs in as `IAMR:AWSReservedSSO_<PermissionSet>_<16 hex>`, as at AWS.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { IssuedToken, Principal, SsoSessionConfig } from './types.js';

export const SSO_PATH = '/federation/credentials';
/** The portal's Logout: `POST /logout` with the bearer token. */
export const SSO_LOGOUT_PATH = '/logout';
/** The scope an access token needs for the portal (what `aws sso login` asks for). */
export const PORTAL_SCOPE = 'sso:account:access';

export interface SsoAnswer {
  readonly status: number;
  readonly body: string;
  /** The `x-amzn-errortype` of a refusal, from which the SDK picks the error class. */
  readonly errorType?: string;
  readonly caller?: string;
}

export class SsoPortal {
  /**
   * @param register makes the issued keys known to signature verification.
   * @param issued looks up tokens the emulator's own OIDC service issued (a sign-in made against the emulator).
   * @param logout ends the sign-in an issued token belongs to.
   */
  constructor(private readonly sessions: readonly SsoSessionConfig[], private readonly register: (p: Principal) => void,
    private readonly issued: (token: string, scope: string) => IssuedToken | undefined = () => undefined,
    private readonly endSignIn: (token: string) => boolean = () => false) {}

  /** Logout: 200 with an empty body; a token the portal does not know is 401, as for every portal call. */
  logout(bearer: string | undefined): SsoAnswer {
    const known = bearer !== undefined && (this.endSignIn(bearer) || this.sessions.some((s) => s.accessToken === bearer));
    return known ? { status: 200, body: '' } : refuse(401, 'UnauthorizedException', 'Session token not found or invalid');
  }

  getRoleCredentials(query: URLSearchParams, bearer: string | undefined): SsoAnswer {
    const roleName = query.get('role_name') ?? '';
    const accountId = query.get('account_id') ?? '';
    const session = this.sessions.find((s) => s.accessToken === bearer) ?? this.signedIn(bearer);
    if (!session || (session.expiresAt !== undefined && session.expiresAt.getTime() <= Date.now())) {
      return refuse(401, 'UnauthorizedException', 'Session token not found or invalid');
    }
    if (session.accountId !== accountId || session.roleName !== roleName) {
      return refuse(403, 'ForbiddenException', 'No access');
    }
    const suffix = createHash('sha256').update(`${accountId}/${roleName}`).digest('hex').slice(0, 16);
    const expiration = Math.floor(Date.now() / 1000) * 1000 + 3_600_000;
    const principal: Principal = {
      accessKeyId: `ASIA${randomBytes(8).toString('hex').toUpperCase()}`,
      secretAccessKey: randomBytes(30).toString('base64'),
      sessionToken: randomBytes(96).toString('base64'),
      arn: `arn:aws:sts::${accountId}:assumed-role/AWSReservedSSO_${roleName}_${suffix}/${session.userName ?? 'user@example.com'}`,
      allow: session.allow,
      expiresAt: new Date(expiration),
    };
    this.register(principal);
    return {
      status: 200,
      caller: principal.arn,
      body: JSON.stringify({ roleCredentials: { accessKeyId: principal.accessKeyId,
        secretAccessKey: principal.secretAccessKey, sessionToken: principal.sessionToken, expiration } }),
    };
  }

  private signedIn(bearer: string | undefined): SsoSessionConfig | undefined {
    if (bearer === undefined) return undefined;
    const t = this.issued(bearer, PORTAL_SCOPE);
    return t ? asSession(bearer, t) : undefined;
  }
}

/** A token of a sign-in made against the emulator, as the session it stands for. */
function asSession(token: string, t: IssuedToken): SsoSessionConfig {
  return { accessToken: token, accountId: t.user.accountId, roleName: t.user.roleName, userName: t.userName,
    expiresAt: t.expiresAt, allow: t.user.allow };
}

function refuse(status: number, errorType: string, message: string): SsoAnswer {
  return { status, errorType, body: JSON.stringify({ message }) };
}
