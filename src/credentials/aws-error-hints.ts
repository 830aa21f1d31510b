/**
 * Turns a failure to obtain a temporary credential into the sentence a BI user reads in the tool's error dialog,
 * with a hint that says what to do. AWS error texts carry ARNs, never secrets, so they may be quoted.
 */
import { ClientError } from '../protocol/client-error.js';
import { SqlState } from '../protocol/sqlstate.js';
import { RateLimitedError } from './credential-cache.js';
import { isThrottling } from './retry-policy.js';

export interface HintContext {
  /** e.g. "GetClusterCredentials". */
  readonly action: string;
  /** IAM action names needed, e.g. ["redshift:GetClusterCredentials"]. */
  readonly iamActions: readonly string[];
  /** Resource ARNs the call needs permission on. */
  readonly resources: readonly string[];
  readonly profile?: string | undefined;
  readonly region?: string | undefined;
  /** "cluster my-cluster" / "workgroup analytics". */
  readonly targetName: string;
  readonly endpointUrl?: string | undefined;
}

interface ErrorShape {
  name?: unknown;
  message?: unknown;
  code?: unknown;
}

function ssoLoginHint(ctx: HintContext): string {
  return `Run: aws sso login${ctx.profile ? ` --profile ${ctx.profile}` : ''} — then connect again.`;
}

function policyHint(ctx: HintContext): string {
  const statement = {
    Effect: 'Allow',
    Action: ctx.iamActions,
    Resource: ctx.resources,
  };
  return `Ask your AWS administrator to allow it, for example with the policy statement ${JSON.stringify(statement)}` +
    (ctx.iamActions.includes('redshift:GetClusterCredentials')
      ? ' (a Condition on "redshift:DbUser" can restrict which database users the identity may become).'
      : '.');
}

export function describeCredentialFailure(err: unknown, ctx: HintContext): ClientError {
  const e = (err ?? {}) as ErrorShape;
  const name = typeof e.name === 'string' ? e.name : 'Error';
  const text = typeof e.message === 'string' ? e.message : String(err);
  const make = (code: string, message: string, hint: string, detail?: string): ClientError =>
    new ClientError({ code, message, hint, detail: detail ?? `${ctx.action}: ${name}: ${text}` }, { cause: err });

  if (err instanceof RateLimitedError) {
    return make(SqlState.SqlclientUnableToEstablishSqlconnection,
      `the proxy asked AWS for credentials too often (${err.limit} times in a minute) and is waiting before the next request`,
      'Wait a minute and connect again; if this repeats, the database may be refusing the issued credentials — check the proxy log.');
  }
  if (/sso/i.test(text) && /(expired|invalid|refresh|token)/i.test(text)) {
    return make(SqlState.InvalidAuthorizationSpecification,
      `your AWS SSO session${ctx.profile ? ` for profile "${ctx.profile}"` : ''} has expired or was never started`,
      ssoLoginHint(ctx));
  }
  if (name === 'CredentialsProviderError' || /could not load credentials/i.test(text)) {
    return make(SqlState.InvalidAuthorizationSpecification,
      'no AWS credentials were found for the proxy',
      ctx.profile
        ? `The proxy looked for profile "${ctx.profile}" in ~/.aws/config and ~/.aws/credentials. Check the profile name, or run: aws sso login --profile ${ctx.profile}`
        : 'The proxy tried AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE and the default profile in ~/.aws, web identity (AWS_WEB_IDENTITY_TOKEN_FILE) and container/instance roles. Set one of them, or pass --profile NAME.');
  }
  if (name === 'ExpiredToken' || name === 'ExpiredTokenException' || name === 'RequestExpired') {
    return make(SqlState.InvalidAuthorizationSpecification,
      'the AWS session token the proxy used has expired',
      ctx.profile ? ssoLoginHint(ctx) : 'Refresh the AWS credentials in the proxy\'s environment (for example a new AWS_SESSION_TOKEN) and connect again.');
  }
  if (name === 'InvalidClientTokenId' || name === 'SignatureDoesNotMatch' || name === 'UnrecognizedClientException'
    || name === 'InvalidSignatureException' || name === 'IncompleteSignature') {
    return make(SqlState.InvalidAuthorizationSpecification,
      'AWS did not accept the access key the proxy used',
      'Check AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or the profile\'s keys; they may be deactivated or mistyped.');
  }
  if (name === 'AccessDenied' || name === 'AccessDeniedException' || name === 'AccessDeniedFault' || name === 'UnauthorizedOperation') {
    return make(SqlState.InvalidAuthorizationSpecification,
      `your AWS identity is not allowed to call ${ctx.action} for ${ctx.targetName}`,
      policyHint(ctx),
      `${text} — the call needs ${ctx.iamActions.join(', ')} on ${ctx.resources.join(', ')}`);
  }
  if (name === 'ClusterNotFoundFault' || name === 'ClusterNotFound') {
    return make(SqlState.SqlclientUnableToEstablishSqlconnection,
      `Redshift has no ${ctx.targetName}${ctx.region ? ` in region ${ctx.region}` : ''}`,
      'Check --cluster-id and --region (the cluster identifier is the first label of the endpoint host name).');
  }
  if (name === 'ResourceNotFoundException') {
    return make(SqlState.SqlclientUnableToEstablishSqlconnection,
      `Redshift Serverless has no ${ctx.targetName}${ctx.region ? ` in region ${ctx.region}` : ''}`,
      'Check --workgroup and --region.');
  }
  if (/region is missing/i.test(text)) {
    return make(SqlState.SqlclientUnableToEstablishSqlconnection,
      'the proxy does not know which AWS region the cluster is in',
      'Pass --region (for example --region us-east-1), set AWS_REGION, or give --upstream as the cluster\'s Redshift endpoint name.');
  }
  if (isThrottling(err)) {
    return make(SqlState.SqlclientUnableToEstablishSqlconnection,
      'AWS is throttling credential requests and the proxy gave up after several tries',
      'Connect again in a minute. Many proxies or tools sharing one identity may be calling the API; they should share this proxy.');
  }
  const code = typeof e.code === 'string' ? e.code : '';
  if (['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'ECONNRESET'].includes(code) || name === 'TimeoutError') {
    return make(SqlState.SqlclientUnableToEstablishSqlconnection,
      `the proxy cannot reach the AWS API${ctx.endpointUrl ? ` at ${ctx.endpointUrl}` : ''}`,
      'Check the network, proxy settings (HTTPS_PROXY) and --aws-endpoint-url, then connect again.');
  }
  return make(SqlState.SqlclientUnableToEstablishSqlconnection,
    `the proxy could not get temporary Redshift credentials (${name})`,
    'See the detail, and the proxy log for the full error.');
}
