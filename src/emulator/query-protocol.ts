/**
 * The `redshift` service's wire format: the AWS Query protocol, API version 2012-12-01.
 * https://smithy.io/2.0/aws/protocols/aws-query-protocol.html
 *
 * Requests are form-encoded POST bodies: `Action=GetClusterCredentials&Version=2012-12-01&DbUser=alice&…`.
 * Lists are `<Member>.<xmlName of the item>.<1-based index>` — the SDK writes `DbGroups.DbGroup.1=…`, and an empty
 * list as a bare `DbGroups=` (its serializer sets serializeEmptyLists). Booleans are `true`/`false`.
 * Answers are XML: `<XResponse><XResult>…</XResult><ResponseMetadata><RequestId/></ResponseMetadata></XResponse>`;
 * failures are `<ErrorResponse><Error><Type/><Code/><Message/></Error><RequestId/></ErrorResponse>` where the SDK
 * finds the modeled error class by `<Code>` (its `awsQueryError` trait: `ClusterNotFound` → ClusterNotFoundFault).
 * Timestamps are ISO 8601 date-time strings.
 */
import type { CallContext, ControlPlane, IssuedCredentials } from './actions.js';
import { invalidParameter, unknownAction } from './faults.js';
import type { ApiFault } from './faults.js';
import type { ClusterConfig } from './types.js';

export const QUERY_SERVICE = 'redshift';
export const QUERY_VERSION = '2012-12-01';
const XMLNS = `http://redshift.amazonaws.com/doc/${QUERY_VERSION}/`;

export interface QueryRequest {
  readonly action: string;
  readonly params: URLSearchParams;
}

export function readQueryRequest(body: string): QueryRequest {
  const params = new URLSearchParams(body);
  return { action: params.get('Action') ?? '', params };
}

/** Runs the action and returns the XML answer, or throws an ApiFault. */
export async function dispatchQuery(plane: ControlPlane, ctx: CallContext, request: QueryRequest,
  requestId: string): Promise<string> {
  const { action, params } = request;
  const version = params.get('Version');
  if (version !== QUERY_VERSION) {
    throw invalidParameter('query', `Version ${version ?? '(none)'} is not supported; use ${QUERY_VERSION}.`);
  }
  const p = new Params(params);
  switch (action) {
    case 'GetClusterCredentials': {
      const out = await plane.getClusterCredentials(ctx, {
        clusterIdentifier: p.string('ClusterIdentifier'),
        customDomainName: p.string('CustomDomainName'),
        dbUser: p.string('DbUser'),
        dbName: p.string('DbName'),
        dbGroups: p.list('DbGroups', 'DbGroup'),
        autoCreate: p.boolean('AutoCreate') ?? false,
        durationSeconds: p.integer('DurationSeconds'),
      });
      return response(action, credentialsXml(out, false), requestId);
    }
    case 'GetClusterCredentialsWithIAM': {
      const out = await plane.getClusterCredentialsWithIAM(ctx, {
        clusterIdentifier: p.string('ClusterIdentifier'),
        customDomainName: p.string('CustomDomainName'),
        dbName: p.string('DbName'),
        durationSeconds: p.integer('DurationSeconds'),
      });
      return response(action, credentialsXml(out, true), requestId);
    }
    case 'DescribeClusters': {
      const clusters = plane.describeClusters(ctx, p.string('ClusterIdentifier'));
      return response(action, el('Clusters', clusters.map((c) => clusterXml(c, ctx)).join('')), requestId);
    }
    default:
      throw unknownAction('query', action);
  }
}

export function queryErrorXml(fault: ApiFault, requestId: string): string {
  return `<ErrorResponse xmlns="${XMLNS}">` +
    el('Error', text('Type', fault.status >= 500 ? 'Receiver' : 'Sender') + text('Code', fault.code) +
      text('Message', fault.message)) +
    text('RequestId', requestId) +
    '</ErrorResponse>';
}

function response(action: string, result: string, requestId: string): string {
  return `<${action}Response xmlns="${XMLNS}">` +
    el(`${action}Result`, result) +
    el('ResponseMetadata', text('RequestId', requestId)) +
    `</${action}Response>`;
}

/** ClusterCredentials / ClusterExtendedCredentials (the latter adds NextRefreshTime). */
function credentialsXml(c: IssuedCredentials, extended: boolean): string {
  return text('DbUser', c.dbUser) + text('DbPassword', c.dbPassword) + text('Expiration', c.expiration) +
    (extended ? text('NextRefreshTime', c.nextRefreshTime) : '');
}

/** The members of Cluster a connecting client or operator looks at; the SDK ignores the ones we leave out. */
function clusterXml(c: ClusterConfig, ctx: CallContext): string {
  const status = c.status ?? 'available';
  const account = ctx.principal.arn.split(':')[4] ?? '000000000000';
  return el('Cluster',
    text('ClusterIdentifier', c.id) +
    text('NodeType', 'ra3.xlplus') +
    text('ClusterStatus', status) +
    text('ClusterAvailabilityStatus', status === 'available' ? 'Available' : status === 'paused' ? 'Paused' : 'Unavailable') +
    text('MasterUsername', 'awsuser') +
    text('DBName', 'dev') +
    el('Endpoint', text('Address', c.endpoint.address) + text('Port', c.endpoint.port)) +
    text('NumberOfNodes', 1) +
    text('PubliclyAccessible', false) +
    text('Encrypted', true) +
    text('ClusterNamespaceArn', `arn:aws:redshift:${c.region}:${account}:namespace:${c.id}`) +
    (c.customDomainName !== undefined ? text('CustomDomainName', c.customDomainName) : ''));
}

/** Typed reads of form parameters; a malformed value is the caller's InvalidParameterValue. */
class Params {
  constructor(private readonly params: URLSearchParams) {}

  string(name: string): string | undefined {
    return this.params.get(name) ?? undefined;
  }

  integer(name: string): number | undefined {
    const raw = this.params.get(name);
    if (raw === null) return undefined;
    if (!/^-?\d+$/.test(raw)) throw invalidParameter('query', `Invalid value '${raw}' for ${name}: not an integer.`);
    return Number(raw);
  }

  boolean(name: string): boolean | undefined {
    const raw = this.params.get(name);
    if (raw === null) return undefined;
    if (raw !== 'true' && raw !== 'false') {
      throw invalidParameter('query', `Invalid value '${raw}' for ${name}: expected true or false.`);
    }
    return raw === 'true';
  }

  /** `Name.Member.1`, `Name.Member.2`, … in index order; `Name=` alone is the empty list. */
  list(name: string, member: string): string[] {
    const prefix = `${name}.${member}.`;
    const items: Array<[number, string]> = [];
    for (const [key, value] of this.params) {
      if (!key.startsWith(prefix)) continue;
      const index = Number(key.slice(prefix.length));
      if (!Number.isInteger(index) || index < 1) throw invalidParameter('query', `Invalid list member ${key}.`);
      items.push([index, value]);
    }
    return items.sort((a, b) => a[0] - b[0]).map(([, value]) => value);
  }
}

function el(name: string, inner: string): string {
  return `<${name}>${inner}</${name}>`;
}

function text(name: string, value: string | number | boolean | Date): string {
  const s = value instanceof Date ? value.toISOString() : String(value);
  return el(name, escapeXml(s));
}

const XML_ENTITIES: Readonly<Record<string, string>> = { '<': '&lt;', '>': '&gt;', '&': '&amp;' };

/** Element content only ever needs these three; quotes stay as they are, as in AWS's own answers. */
function escapeXml(s: string): string {
  return s.replace(/[<>&]/g, (ch) => XML_ENTITIES[ch] ?? ch);
}
