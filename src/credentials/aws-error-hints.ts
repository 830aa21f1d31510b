/**
 * Turns a failure to obtain a temporary credential into the sentence a BI user reads in the tool's error dialog,
 * with a hint that says what to do. The names and texts matched here are the ones the real AWS SDK v3 produces
 * (checked against the control-plane emulator and the SDK's own providers in test/e2e/credentials-errors.test.ts).
 * AWS and SDK error texts carry ARNs and profile names, never secrets; as a second line of defence any value of a
 * secret variable in the proxy's environment is cut out of what the client is sent.
 */
import { ClientError } from '../protocol/client-error.js';
import type { ClientErrorFields } from '../protocol/client-error.js';
import { SqlState } from '../protocol/sqlstate.js';
import { accessDeniedFields } from './access-denied.js';
import type { HintContext } from './hint-context.js';
import { NewIdentityRateLimitedError, RateLimitedError } from './credential-cache.js';
import { EndpointNotReadyError } from './endpoint-discovery.js';
import { effectiveProfile, sharedFiles, triedSources } from './provider-chain-report.js';
import { isThrottling } from './retry-policy.js';

export type { HintContext } from './hint-context.js';

interface ErrorShape {
  name?: unknown;
  message?: unknown;
  code?: unknown;
}

const AUTH_REFUSED = new Set(['InvalidClientTokenId', 'SignatureDoesNotMatch', 'UnrecognizedClientException',
  'InvalidSignatureException', 'IncompleteSignature', 'IncompleteSignatureException', 'MissingAuthenticationToken',
  'MissingAuthenticationTokenException']);
const ACCESS_DENIED = new Set(['AccessDenied', 'AccessDeniedException', 'AccessDeniedFault', 'UnauthorizedOperation']);
const EXPIRED = new Set(['ExpiredToken', 'ExpiredTokenException', 'RequestExpired']);
const NOT_FOUND = new Set(['ClusterNotFoundFault', 'ClusterNotFound']);
const BAD_PARAMETER = new Set(['InvalidParameterValue', 'InvalidParameterValueException', 'ValidationException',
  'InvalidParameterCombination', 'MissingParameter']);
/** GetClusterCredentialsWithIAM for a caller that is no IAM user or role (the SDK's class for it is …Fault). */
const NO_IDENTITY_USER = new Set(['UnsupportedOperationFault', 'UnsupportedOperation']);
const NETWORK = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'ECONNRESET', 'EPIPE']);
/** Provider-chain errors: the SDK could not get an AWS identity at all (no API call was made). */
const PROVIDER_ERRORS = new Set(['CredentialsProviderError', 'TokenProviderError']);
const SECRET_VARIABLES = ['AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_SECURITY_TOKEN'];

export function describeCredentialFailure(err: unknown, ctx: HintContext, env: NodeJS.ProcessEnv = process.env): ClientError {
  const e = (err ?? {}) as ErrorShape;
  const name = typeof e.name === 'string' ? e.name : 'Error';
  const text = typeof e.message === 'string' ? e.message : String(err);
  const fields = classify(err, name, text, ctx, env);
  return new ClientError(scrub({ detail: `${ctx.action}: ${name}: ${text}`, ...fields }, env), { cause: err });
}

function classify(err: unknown, name: string, text: string, ctx: HintContext, env: NodeJS.ProcessEnv): ClientErrorFields {
  const unable = SqlState.SqlclientUnableToEstablishSqlconnection;
  const refused = SqlState.InvalidAuthorizationSpecification;
  const profile = effectiveProfile(ctx.profile, env);
  const ssoLogin = `aws sso login${profile === 'default' ? '' : ` --profile ${profile}`}`;

  if (err instanceof RateLimitedError) {
    return { code: unable,
      message: `the proxy asked AWS for credentials too often (${err.limit} times in a minute) and is waiting before the next request`,
      hint: 'Wait a minute and connect again; if this repeats, the database may be refusing the issued credentials — check the proxy log.' };
  }
  if (err instanceof NewIdentityRateLimitedError) {
    return { code: SqlState.TooManyConnections,
      message: `too many user names the proxy has not seen are asking for credentials at once (more than ${err.perSecond} a second)`,
      hint: 'Connect again in a moment. If clients send many different user names, give the proxy --db-user or --allowed-users.' };
  }
  if (err instanceof EndpointNotReadyError) {
    return { code: unable,
      message: `Redshift has no address for ${err.what} yet (status ${err.status})`,
      hint: 'Wait until it is available (resume a paused cluster), or give --upstream HOST[:PORT].' };
  }
  if (PROVIDER_ERRORS.has(name) && /\bSSO\b/i.test(text)) {
    const expired = /expired|cannot refresh/i.test(text);
    return { code: refused,
      message: `your AWS SSO session for profile "${profile}" ${expired ? 'has expired' : 'was not found — it was never started or was signed out'}`,
      detail: `The AWS SDK said: ${text}`,
      hint: `Run: ${ssoLogin} — then connect again (the proxy picks the new session up without a restart).` };
  }
  if (PROVIDER_ERRORS.has(name) && /could not load credentials|could not be found|not found in/i.test(text)) {
    const files = sharedFiles(env);
    return { code: refused,
      message: ctx.profile ? `no AWS credentials were found for profile "${ctx.profile}"` : 'no AWS credentials were found for the proxy',
      detail: `The AWS SDK said: ${text}`,
      hint: `The proxy tried: ${triedSources(ctx.profile, env).join('; ')}. ` + (ctx.profile
        ? `Check that profile "${ctx.profile}" exists in ${files.config} (aws configure list-profiles), or sign in with: ${ssoLogin}`
        : 'Sign in with an SSO profile and pass it (aws sso login --profile NAME, then --profile NAME), or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY for the proxy.') };
  }
  if (EXPIRED.has(name)) {
    const envKeys = !ctx.profile && (env.AWS_SESSION_TOKEN ?? '') !== '';
    return { code: refused,
      message: 'the temporary AWS credentials the proxy signs with have expired',
      hint: envKeys
        ? 'The keys in AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY/AWS_SESSION_TOKEN are out of date: restart the proxy with fresh ones — or use --profile NAME, with which the proxy renews them itself.'
        : `Refresh the profile's session (for an SSO profile: ${ssoLogin}) and connect again.` };
  }
  if (AUTH_REFUSED.has(name)) {
    return { code: refused,
      message: 'AWS did not accept the access key the proxy signs with',
      hint: 'Check AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or the profile\'s keys (they may be deactivated, mistyped, or from another partition), and that this machine\'s clock is right.' };
  }
  if (ACCESS_DENIED.has(name)) return accessDeniedFields(text, ctx);
  if (NOT_FOUND.has(name)) {
    return { code: unable,
      message: `Redshift has no ${ctx.targetName}${ctx.region ? ` in region ${ctx.region}` : ''}`,
      hint: 'Check --cluster-id and --region (the cluster identifier is the first label of the endpoint host name).' };
  }
  if (name === 'ResourceNotFoundException') {
    return { code: unable,
      message: `Redshift Serverless has no ${ctx.targetName}${ctx.region ? ` in region ${ctx.region}` : ''}`,
      hint: 'Check --workgroup and --region (the workgroup is the first label of a serverless endpoint host name).' };
  }
  const group = /database group (\S+?)\.? does not exist/i.exec(text);
  if (BAD_PARAMETER.has(name) && group) {
    return { code: refused,
      message: `database group "${group[1] ?? ''}" does not exist in ${ctx.targetName}`,
      hint: 'Check the names in --db-groups (they are case-sensitive), or ask an administrator to CREATE GROUP it.' };
  }
  if (NO_IDENTITY_USER.has(name) || (BAD_PARAMETER.has(name) && /neither an IAM user nor an assumed role/i.test(text))) {
    return { code: refused,
      message: `${ctx.action} cannot derive a database user from this AWS identity`,
      hint: 'Use an IAM user or role (an SSO profile is a role), or leave out --with-iam and name the user with --db-user.' };
  }
  if (BAD_PARAMETER.has(name)) {
    return { code: refused,
      message: `AWS refused the ${ctx.action} request: ${text}`,
      hint: 'A database user name must start with a letter and hold only letters, digits and _ + . @ -; check the user name your tool sends (or --db-user), --db-groups and --duration.' };
  }
  if (/region is missing/i.test(text)) {
    return { code: unable,
      message: 'the proxy does not know which AWS region the cluster is in',
      hint: 'Pass --region (for example --region us-east-1), set AWS_REGION, put region= in the profile, or give --upstream as the cluster\'s Redshift endpoint name.' };
  }
  if (isThrottling(err)) {
    return { code: unable,
      message: 'AWS kept throttling the credential requests and the proxy gave up after several tries',
      hint: 'Connect again in a minute. Many proxies or tools sharing one identity may be calling the API; they should share this proxy.' };
  }
  const code = typeof (err as ErrorShape | undefined)?.code === 'string' ? (err as { code: string }).code : '';
  if (NETWORK.has(code) || name === 'TimeoutError' || /socket hang up/i.test(text)) {
    return { code: unable,
      message: `the proxy cannot reach the AWS API${ctx.endpointUrl ? ` at ${ctx.endpointUrl}` : ''}`,
      hint: 'Check the network, proxy settings (HTTPS_PROXY) and --aws-endpoint-url, then connect again.' };
  }
  const lookup = ctx.action === 'DescribeClusters' || ctx.action === 'GetWorkgroup';
  return { code: unable,
    message: lookup ? `the proxy could not look up the endpoint of ${ctx.targetName} (${name})`
      : `the proxy could not get temporary Redshift credentials (${name})`,
    hint: 'The detail holds AWS\'s answer; if it does not explain the problem, run the proxy with --log-level debug.' };
}

/** Cuts the value of every secret variable out of what the client is sent. */
function scrub(fields: ClientErrorFields, env: NodeJS.ProcessEnv): ClientErrorFields {
  const secrets = SECRET_VARIABLES.map((v) => env[v]).filter((s): s is string => s !== undefined && s.length >= 8);
  const clean = (s: string | undefined): string | undefined =>
    s === undefined ? undefined : secrets.reduce((acc, secret) => acc.split(secret).join('[redacted]'), s);
  return { ...fields, message: clean(fields.message) ?? '', detail: clean(fields.detail), hint: clean(fields.hint) };
}
