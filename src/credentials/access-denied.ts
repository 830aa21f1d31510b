/**
 * IAM's refusals, read closely: AWS says exactly which action on which resource was refused to whom ("User: <arn>
 * is not authorized to perform: <action> on resource: <arn>"), so the hint can name the one missing permission and
 * show the policy statement that grants it — with the real account and region, not placeholders.
 * https://docs.aws.amazon.com/redshift/latest/mgmt/redshift-iam-access-control-identity-based.html
 */
import type { ClientErrorFields } from '../protocol/client-error.js';
import { SqlState } from '../protocol/sqlstate.js';
import type { HintContext } from './hint-context.js';

export interface DeniedCall {
  readonly caller?: string | undefined;
  readonly iamAction?: string | undefined;
  readonly resource?: string | undefined;
}

const DENIED = /User: (\S+) is not authorized to perform: (\S+) on resource: (\S+)/;

export function parseAccessDenied(text: string): DeniedCall {
  const m = DENIED.exec(text);
  return m ? { caller: m[1], iamAction: m[2], resource: m[3] } : {};
}

/** Which of a call's resource ARNs each IAM action is checked against. */
const RESOURCE_KINDS: Readonly<Record<string, readonly string[]>> = {
  'redshift:GetClusterCredentials': [':dbuser:', ':dbname:'],
  'redshift:CreateClusterUser': [':dbuser:'],
  'redshift:JoinGroup': [':dbgroup:'],
  'redshift:GetClusterCredentialsWithIAM': [':dbname:', ':cluster:'],
};

/** The statement that allows `action` on the resources of this call, ready to paste into a policy. */
function statement(action: string, resources: readonly string[], dbUser: string | undefined): string {
  const withUser = dbUser !== undefined && (action === 'redshift:GetClusterCredentials' || action === 'redshift:CreateClusterUser');
  return JSON.stringify({
    Effect: 'Allow',
    Action: action,
    Resource: resources.length === 1 ? resources[0] : resources,
    ...(withUser ? { Condition: { StringEquals: { 'redshift:DbUser': dbUser } } } : {}),
  });
}

/** The ARNs the hint shows: placeholders filled from the refused ARN, narrowed to what `action` is checked on. */
function resourcesFor(action: string, denied: DeniedCall, ctx: HintContext): string[] {
  const parts = denied.resource?.split(':') ?? [];
  const region = parts[3] || ctx.region || '<region>';
  const account = parts[4] || denied.caller?.split(':')[4] || '<account-id>';
  const filled = ctx.resources.map((r) => r.replace('<region>', region).replace('<account-id>', account));
  const kinds = RESOURCE_KINDS[action];
  // An action this call does not know the resources of (sts:AssumeRole, a lookup): the refused ARN says it all.
  if (!kinds && denied.resource) return [denied.resource];
  const relevant = kinds ? filled.filter((r) => kinds.some((k) => r.includes(k))) : filled;
  const known = relevant.filter((r) => !r.includes('<'));
  if (denied.resource && !known.includes(denied.resource)) known.unshift(denied.resource);
  return known.length > 0 ? known : relevant;
}

export function accessDeniedFields(text: string, ctx: HintContext): ClientErrorFields {
  const denied = parseAccessDenied(text);
  const action = denied.iamAction ?? ctx.iamActions[0] ?? ctx.action;
  const resources = resourcesFor(action, denied, ctx);
  const policy = statement(action, resources, ctx.dbUser);
  const detail = `AWS said: ${text} — the call needs ${action} on ${resources.join(', ')}.`;
  const code = SqlState.InvalidAuthorizationSpecification;

  if (action === 'sts:AssumeRole') {
    return {
      code, detail,
      message: `your AWS identity is not allowed to assume the role ${denied.resource ?? ctx.assumeRoleArn ?? ''}`.trim(),
      hint: `Check --assume-role and --external-id: the role's trust policy must name ${denied.caller ?? 'your identity'} ` +
        '(or its account) and, when it requires an external id, the same value; your identity itself needs ' +
        `${JSON.stringify({ Effect: 'Allow', Action: 'sts:AssumeRole', Resource: denied.resource ?? ctx.assumeRoleArn })}.`,
    };
  }
  if (action === 'redshift:CreateClusterUser') {
    return {
      code, detail,
      message: `your AWS identity may not create database users, which --auto-create needs (redshift:CreateClusterUser)`,
      hint: `Ask your AWS administrator to add the policy statement ${policy}, or have the database user created ` +
        'once by an administrator and start the proxy without --auto-create.',
    };
  }
  if (action === 'redshift:JoinGroup') {
    return {
      code, detail,
      message: `your AWS identity may not join the database groups given with --db-groups (redshift:JoinGroup)`,
      hint: `Ask your AWS administrator to add the policy statement ${policy}, or leave those groups out of --db-groups.`,
    };
  }
  const lookup = action === 'redshift:DescribeClusters' || action === 'redshift-serverless:GetWorkgroup';
  return {
    code, detail,
    message: `your AWS identity is not allowed to call ${ctx.action} for ${ctx.targetName}`,
    hint: `Ask your AWS administrator to add the policy statement ${policy}` +
      (policy.includes('redshift:DbUser') ? ' (its Condition limits the identity to that database user).' : '.') +
      (lookup ? ' Or give --upstream HOST[:PORT], so the proxy need not look the endpoint up.' : ''),
  };
}
