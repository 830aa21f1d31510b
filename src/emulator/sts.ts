/**
 * AWS STS as far as the proxy needs it: `AssumeRole`, which `--assume-role` (the SDK's fromTemporaryCredentials)
 * calls before any Redshift call. AWS Query protocol, service `sts`, API version 2011-06-15, SigV4-signed like the
 * rest. https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html
 *
 * Facts this follows:
 * - The caller needs `sts:AssumeRole` on the role in its own policy *and* the role's trust policy must name it;
 *   STS answers every refusal — unknown role, untrusted caller, wrong or missing ExternalId — with the same 403
 *   `AccessDenied` "User: <caller> is not authorized to perform: sts:AssumeRole on resource: <role>", so a caller
 *   learns nothing about which condition failed.
 * - The session is a new principal: `ASIA…` access key, secret, session token, an expiration (DurationSeconds,
 *   900–43200, default 3600), and the ARN `arn:aws:sts::<role account>:assumed-role/<role name>/<session name>`.
 * - RoleSessionName is 2–64 characters of `[\w+=,.@-]`; a bad value or duration is a 400 `ValidationError`.
 * - `AssumeRoleWithWebIdentity` (EKS pods: AWS_ROLE_ARN + AWS_WEB_IDENTITY_TOKEN_FILE) is not signed — the OIDC
 *   token is the proof — and a token the role does not accept is a 403 `AccessDenied`.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { CallContext } from './actions.js';
import { ApiFault } from './faults.js';
import type { Principal, RoleConfig } from './types.js';

export const STS_SERVICE = 'sts';
export const STS_VERSION = '2011-06-15';
const XMLNS = `https://sts.amazonaws.com/doc/${STS_VERSION}/`;

const ROLE_ARN = /^arn:([\w-]+):iam::(\d{12}):role\/(?:[\w+=,.@/-]*\/)?([\w+=,.@-]+)$/;
const SESSION_NAME = /^[\w+=,.@-]{2,64}$/;
const MIN_DURATION = 900;
const MAX_DURATION = 43_200;
const DEFAULT_DURATION = 3_600;

export class SecurityTokenService {
  /** @param register makes a new session's keys known to signature verification. */
  constructor(private readonly roles: readonly RoleConfig[], private readonly register: (session: Principal) => void) {}

  /** Runs a signed STS action and returns the XML answer, or throws an ApiFault. */
  dispatch(ctx: CallContext, params: URLSearchParams, requestId: string): string {
    const action = params.get('Action') ?? '';
    if (action === 'GetCallerIdentity') return callerIdentity(ctx.principal, requestId);
    if (action !== 'AssumeRole') {
      throw new ApiFault('InvalidAction', 400, `Could not find operation ${action} for version ${STS_VERSION}`);
    }
    const { roleArn, sessionName, duration } = readCommon(params);
    const caller = ctx.principal;
    const role = this.roles.find((r) => r.arn === roleArn);
    const externalId = params.get('ExternalId') ?? undefined;
    const refused = !role
      || (caller.allow !== undefined && !caller.allow('sts:AssumeRole', roleArn))
      || (role.trusts !== undefined && !role.trusts(caller.arn))
      || (role.externalId !== undefined && role.externalId !== externalId);
    if (refused) {
      throw new ApiFault('AccessDenied', 403, `User: ${caller.arn} is not authorized to perform: sts:AssumeRole on resource: ${roleArn}`);
    }
    return this.issue('AssumeRole', role, sessionName, duration, requestId).xml;
  }

  /** The unsigned AssumeRoleWithWebIdentity; returns the answer and the session's ARN (the call log's caller). */
  assumeRoleWithWebIdentity(params: URLSearchParams, requestId: string): { xml: string; caller: string } {
    const { roleArn, sessionName, duration } = readCommon(params);
    const role = this.roles.find((r) => r.arn === roleArn);
    if (!role || role.webIdentityToken === undefined || role.webIdentityToken !== params.get('WebIdentityToken')) {
      throw new ApiFault('AccessDenied', 403, 'Not authorized to perform sts:AssumeRoleWithWebIdentity');
    }
    return this.issue('AssumeRoleWithWebIdentity', role, sessionName, duration, requestId);
  }

  private issue(action: string, role: RoleConfig, sessionName: string, duration: number,
    requestId: string): { xml: string; caller: string } {
    const parts = ROLE_ARN.exec(role.arn);
    if (!parts) throw new ApiFault('ValidationError', 400, `Invalid RoleArn ${role.arn}`);
    const [, partition = 'aws', account = '', roleName = ''] = parts;
    const expiration = new Date(Math.floor(Date.now() / 1000) * 1000 + duration * 1000);
    const session: Principal = {
      accessKeyId: `ASIA${randomBytes(10).toString('hex').toUpperCase().slice(0, 16)}`,
      secretAccessKey: randomBytes(30).toString('base64'),
      sessionToken: randomBytes(96).toString('base64'),
      arn: `arn:${partition}:sts::${account}:assumed-role/${roleName}/${sessionName}`,
      allow: role.allow,
      expiresAt: expiration,
    };
    this.register(session);
    const roleId = uniqueId('AROA', `${account}/${roleName}`);
    const xml = `<${action}Response xmlns="${XMLNS}"><${action}Result>` +
      '<Credentials>' +
      el('AccessKeyId', session.accessKeyId) + el('SecretAccessKey', session.secretAccessKey) +
      el('SessionToken', session.sessionToken ?? '') + el('Expiration', expiration.toISOString()) +
      '</Credentials>' +
      `<AssumedRoleUser>${el('AssumedRoleId', `${roleId}:${sessionName}`)}${el('Arn', session.arn)}</AssumedRoleUser>` +
      `</${action}Result><ResponseMetadata>${el('RequestId', requestId)}</ResponseMetadata></${action}Response>`;
    return { xml, caller: session.arn };
  }
}

/**
 * GetCallerIdentity needs no permission. UserId is the principal's unique id: `AIDA…` for an IAM user, and
 * `AROA…:<role session name>` for an assumed role — the value IAM policies see as `aws:userid`.
 * https://docs.aws.amazon.com/STS/latest/APIReference/API_GetCallerIdentity.html
 */
function callerIdentity(p: Principal, requestId: string): string {
  const account = p.arn.split(':')[4] ?? '';
  const resource = p.arn.split(':').slice(5).join(':');
  const assumed = /^assumed-role\/([^/]+)\/(.+)$/.exec(resource);
  const userId = assumed ? `${uniqueId('AROA', `${account}/${assumed[1] ?? ''}`)}:${assumed[2] ?? ''}` : uniqueId('AIDA', p.arn);
  return `<GetCallerIdentityResponse xmlns="${XMLNS}"><GetCallerIdentityResult>` +
    el('Arn', p.arn) + el('UserId', userId) + el('Account', account) +
    `</GetCallerIdentityResult><ResponseMetadata>${el('RequestId', requestId)}</ResponseMetadata></GetCallerIdentityResponse>`;
}

/** A stable IAM unique id (prefix + 17 upper-case characters) for a role or user. */
export function uniqueId(prefix: string, of: string): string {
  return prefix + createHash('sha256').update(of).digest('hex').slice(0, 17).toUpperCase();
}

/** RoleArn, RoleSessionName and DurationSeconds, checked as STS checks them. */
function readCommon(params: URLSearchParams): { roleArn: string; sessionName: string; duration: number } {
  const roleArn = params.get('RoleArn') ?? '';
  const sessionName = params.get('RoleSessionName') ?? '';
  if (!SESSION_NAME.test(sessionName)) {
    throw validation(`Value '${sessionName}' at 'roleSessionName' failed to satisfy constraint: Member must ` +
      'satisfy regular expression pattern: [\\w+=,.@-]* and have length between 2 and 64');
  }
  const durationText = params.get('DurationSeconds');
  const duration = durationText === null ? DEFAULT_DURATION : Number(durationText);
  if (!Number.isInteger(duration) || duration < MIN_DURATION || duration > MAX_DURATION) {
    throw validation(`Value '${durationText ?? ''}' at 'durationSeconds' failed to satisfy constraint: Member ` +
      `must have value between ${MIN_DURATION} and ${MAX_DURATION}`);
  }
  return { roleArn, sessionName, duration };
}

function validation(message: string): ApiFault {
  return new ApiFault('ValidationError', 400, `1 validation error detected: ${message}`);
}

/** Every value written here is base64, hex, an ARN or a timestamp: nothing that needs XML escaping but `&<>`. */
function el(name: string, value: string): string {
  return `<${name}>${value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')}</${name}>`;
}
