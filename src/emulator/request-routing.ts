/**
 * Which service and action an emulator request is for, told apart as AWS's own endpoints would be by their protocol
 * (see server.ts), and what of it the call log may keep.
 */
import { JSON_SERVICE, readJsonRequest } from './json-protocol.js';
import type { JsonRequest } from './json-protocol.js';
import { QUERY_SERVICE, readQueryRequest } from './query-protocol.js';
import type { QueryRequest } from './query-protocol.js';
import { STS_SERVICE, STS_VERSION } from './sts.js';
import { Actions } from './types.js';
import type { ActionName } from './types.js';

/** Which actions each service carries; a Query request for `GetCredentials` is an unknown action, as at AWS. */
const ACTIONS_BY_SERVICE: Readonly<Record<string, readonly ActionName[]>> = {
  [QUERY_SERVICE]: [Actions.GetClusterCredentials, Actions.GetClusterCredentialsWithIAM, Actions.DescribeClusters],
  [JSON_SERVICE]: [Actions.GetCredentials, Actions.GetWorkgroup],
  [STS_SERVICE]: [Actions.AssumeRole, Actions.AssumeRoleWithWebIdentity, Actions.GetCallerIdentity],
};

/** Parameter names whose values never go into the call log. */
const SECRET_NAME = /password|secret|token|signature/i;

export type Decoded =
  | { readonly protocol: 'query'; readonly request: QueryRequest }
  | { readonly protocol: 'json'; readonly request: JsonRequest; readonly target: string };

/** A POST body read in the protocol the request speaks: `X-Amz-Target` is AWS JSON 1.1, anything else Query. */
export function decodeRequest(target: string | undefined, text: string): Decoded {
  return target !== undefined
    ? { protocol: 'json', request: readJsonRequest(target, text), target }
    : { protocol: 'query', request: readQueryRequest(text) };
}

/** The action when the request's service carries it; a Query request for `GetCredentials` is unknown, as at AWS. */
export function knownAction(decoded: Decoded, service: string): ActionName | undefined {
  const action = decoded.request.action;
  return ACTIONS_BY_SERVICE[service]?.find((a) => a === action);
}

/**
 * At AWS each service has its own host; here one listener serves all three, told apart as their SDK clients send
 * them: JSON 1.1 is `redshift-serverless`, a Query request of STS's API version is `sts`, other Query is `redshift`.
 */
export function serviceOf(decoded: Decoded): string {
  if (decoded.protocol === 'json') return JSON_SERVICE;
  return decoded.request.params.get('Version') === STS_VERSION ? STS_SERVICE : QUERY_SERVICE;
}

/** The request's parameters for the call log, secrets redacted. */
export function paramsOf(decoded: Decoded): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (decoded.protocol === 'query') {
    for (const [key, value] of decoded.request.params) {
      if (key !== 'Action' && key !== 'Version') out[key] = SECRET_NAME.test(key) ? '[redacted]' : value;
    }
  } else {
    for (const [key, value] of Object.entries(decoded.request.input)) {
      out[key] = SECRET_NAME.test(key) ? '[redacted]' : value;
    }
  }
  return out;
}
