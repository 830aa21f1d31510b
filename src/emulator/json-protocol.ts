/**
 * The `redshift-serverless` service's wire format: AWS JSON 1.1.
 * https://smithy.io/2.0/aws/protocols/aws-json-1_1-protocol.html
 *
 * Requests are `POST /` with `X-Amz-Target: RedshiftServerless.<Operation>`, `Content-Type:
 * application/x-amz-json-1.1` and a JSON body of camelCase members. Answers are JSON with the same member names;
 * timestamps without a format trait (`expiration`, `nextRefreshTime`) are epoch seconds as numbers, while
 * `Workgroup.creationDate` is modeled as date-time and travels as an ISO 8601 string. Failures carry
 * `{"__type": "<Code>", "message": "…"}` (and `X-Amzn-ErrorType`), from which the SDK picks the modeled class.
 */
import type { CallContext, ControlPlane, IssuedCredentials, WorkgroupView } from './actions.js';
import { ApiFault, invalidParameter, unknownAction } from './faults.js';

export const JSON_SERVICE = 'redshift-serverless';
export const JSON_TARGET_PREFIX = 'RedshiftServerless.';
export const JSON_CONTENT_TYPE = 'application/x-amz-json-1.1';

/** Workgroups in the emulator were all "created" at this instant. */
const CREATION_DATE = '2024-01-01T00:00:00.000Z';

export interface JsonRequest {
  readonly action: string;
  readonly input: Readonly<Record<string, unknown>>;
}

/** The operation from the target header and the members from the body; a body that is not an object is refused. */
export function readJsonRequest(target: string, body: string): JsonRequest {
  const action = target.startsWith(JSON_TARGET_PREFIX) ? target.slice(JSON_TARGET_PREFIX.length) : target;
  let input: unknown;
  try {
    input = body.trim() === '' ? {} : JSON.parse(body);
  } catch {
    throw new ApiFault('SerializationException', 400, 'Request body is not valid JSON.');
  }
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new ApiFault('SerializationException', 400, 'Request body must be a JSON object.');
  }
  return { action, input: input as Record<string, unknown> };
}

/** Runs the operation and returns the JSON answer, or throws an ApiFault. */
export async function dispatchJson(plane: ControlPlane, ctx: CallContext, target: string,
  request: JsonRequest): Promise<string> {
  if (!target.startsWith(JSON_TARGET_PREFIX)) throw unknownAction('json', target);
  const m = new Members(request.input);
  switch (request.action) {
    case 'GetCredentials': {
      const out = await plane.getServerlessCredentials(ctx, {
        workgroupName: m.string('workgroupName'),
        customDomainName: m.string('customDomainName'),
        dbName: m.string('dbName'),
        durationSeconds: m.integer('durationSeconds'),
      });
      return JSON.stringify(credentialsJson(out));
    }
    case 'GetWorkgroup':
      return JSON.stringify({ workgroup: workgroupJson(plane.getWorkgroup(ctx, m.string('workgroupName'))) });
    default:
      throw unknownAction('json', request.action);
  }
}

export function jsonErrorBody(fault: ApiFault): string {
  return JSON.stringify({ __type: fault.code, message: fault.message, ...fault.members });
}

function credentialsJson(c: IssuedCredentials): Record<string, unknown> {
  return {
    dbUser: c.dbUser,
    dbPassword: c.dbPassword,
    expiration: epochSeconds(c.expiration),
    nextRefreshTime: epochSeconds(c.nextRefreshTime),
  };
}

function workgroupJson(w: WorkgroupView): Record<string, unknown> {
  return {
    workgroupId: w.id,
    workgroupArn: w.arn,
    workgroupName: w.name,
    namespaceName: w.namespaceName ?? 'default-namespace',
    status: 'AVAILABLE',
    baseCapacity: 8,
    enhancedVpcRouting: false,
    publiclyAccessible: false,
    creationDate: CREATION_DATE,
    port: w.endpoint.port,
    endpoint: { address: w.endpoint.address, port: w.endpoint.port },
    ...(w.customDomainName !== undefined ? { customDomainName: w.customDomainName } : {}),
  };
}

function epochSeconds(d: Date): number {
  return d.getTime() / 1000;
}

/** Typed reads of body members; a member of the wrong JSON type is a ValidationException. */
class Members {
  constructor(private readonly input: Readonly<Record<string, unknown>>) {}

  string(name: string): string | undefined {
    const v = this.input[name];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'string') throw invalidParameter('json', `${name} must be a string.`);
    return v;
  }

  integer(name: string): number | undefined {
    const v = this.input[name];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'number' || !Number.isInteger(v)) throw invalidParameter('json', `${name} must be an integer.`);
    return v;
  }
}
