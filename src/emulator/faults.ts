/**
 * Errors as AWS answers them. One condition has a different code in each protocol (Query services such as
 * `redshift` say `AccessDenied`, JSON services such as `redshift-serverless` say `AccessDeniedException`), so every
 * shared condition is built here from the protocol; the protocol modules only render `ApiFault`s.
 *
 * The SDK turns a code it finds in the service model into that class (ClusterNotFound → ClusterNotFoundFault,
 * ResourceNotFoundException, ThrottlingException for Serverless) and any other code into the service's base
 * exception whose `name` is the code — which is exactly how it treats the same answers from AWS.
 */
import type { InjectedError, Protocol } from './types.js';

export class ApiFault extends Error {
  constructor(
    /** The wire code: `<Code>` (Query) or `__type` (JSON). */
    readonly code: string,
    readonly status: number,
    message: string,
    /** Additional members of a modeled JSON error (e.g. `resourceName`); ignored by the Query renderer. */
    readonly members: Readonly<Record<string, string>> = {},
  ) {
    super(message);
    this.name = code;
  }
}

type Pair = readonly [code: string, status: number];
type PerProtocol = Readonly<Record<Protocol, Pair>>;

/** Failures of authentication, in the wording AWS's front end uses for every service. */
export const AuthFailure = {
  /** No Authorization header at all. */
  missing: { query: ['MissingAuthenticationToken', 403], json: ['MissingAuthenticationTokenException', 403] },
  /** An Authorization header we cannot parse, or one that leaves out `host`. */
  incomplete: { query: ['IncompleteSignature', 403], json: ['IncompleteSignatureException', 403] },
  /** Unknown access key, or a session token that does not belong to it. */
  unknownKey: { query: ['InvalidClientTokenId', 403], json: ['UnrecognizedClientException', 403] },
  /** Signature, credential scope or payload hash wrong, or the request is too old. */
  mismatch: { query: ['SignatureDoesNotMatch', 403], json: ['InvalidSignatureException', 403] },
  /**
   * The session token expired. Query services answer 403 `ExpiredToken`; Coral-based JSON services answer
   * 400 `ExpiredTokenException` (as DynamoDB and the Redshift Data API do).
   */
  expired: { query: ['ExpiredToken', 403], json: ['ExpiredTokenException', 400] },
} as const satisfies Record<string, PerProtocol>;
export type AuthFailureKind = keyof typeof AuthFailure;

export const AuthMessages = {
  missing: 'Request is missing Authentication Token',
  unknownKey: 'The security token included in the request is invalid.',
  expired: 'The security token included in the request is expired',
  mismatch:
    'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access ' +
    'Key and signing method. Consult the service documentation for details.',
} as const;

export function authFault(protocol: Protocol, kind: AuthFailureKind, message: string): ApiFault {
  const [code, status] = AuthFailure[kind][protocol];
  return new ApiFault(code, status, message);
}

/** IAM's refusal, worded as IAM words it today (including the "because no identity-based policy" clause). */
export function accessDenied(protocol: Protocol, callerArn: string, iamAction: string, resource: string): ApiFault {
  const message = `User: ${callerArn} is not authorized to perform: ${iamAction} on resource: ${resource} ` +
    `because no identity-based policy allows the ${iamAction} action`;
  return protocol === 'query'
    ? new ApiFault('AccessDenied', 403, message)
    : new ApiFault('AccessDeniedException', 403, message);
}

/**
 * A parameter out of its range or malformed. Redshift (Query) answers `InvalidParameterValue`; Serverless (JSON)
 * answers its modeled `ValidationException`. Both are HTTP 400.
 */
export function invalidParameter(protocol: Protocol, message: string): ApiFault {
  return protocol === 'query'
    ? new ApiFault('InvalidParameterValue', 400, message)
    : new ApiFault('ValidationException', 400, message);
}

/** A required parameter absent: Query's `MissingParameter`, JSON's `ValidationException`. */
export function missingParameter(protocol: Protocol, name: string): ApiFault {
  return protocol === 'query'
    ? new ApiFault('MissingParameter', 400, `The request must contain the parameter ${name}`)
    : new ApiFault('ValidationException', 400, `1 validation error detected: Value null at '${name}' failed to ` +
      'satisfy constraint: Member must not be null');
}

export function unknownAction(protocol: Protocol, action: string): ApiFault {
  return protocol === 'query'
    ? new ApiFault('InvalidAction', 400, `The action ${action} is not valid for this web service.`)
    : new ApiFault('UnknownOperationException', 400, `Unknown operation ${action}`);
}

const INJECTED: Readonly<Record<Exclude<InjectedError, object>, PerProtocol & { message: string }>> = {
  Throttling: { query: ['Throttling', 400], json: ['ThrottlingException', 429], message: 'Rate exceeded' },
  ThrottlingException: {
    query: ['ThrottlingException', 400], json: ['ThrottlingException', 429], message: 'Rate exceeded',
  },
  InternalFailure: {
    query: ['InternalFailure', 500], json: ['InternalServerException', 500],
    message: 'The request processing has failed because of an unknown error, exception or failure.',
  },
  ServiceUnavailable: {
    query: ['ServiceUnavailable', 503], json: ['ServiceUnavailableException', 503],
    message: 'The request has failed due to a temporary failure of the server.',
  },
};

export function injectedFault(protocol: Protocol, error: InjectedError): ApiFault {
  if (typeof error === 'object') return new ApiFault(error.code, error.status, error.message);
  const preset = INJECTED[error];
  const [code, status] = preset[protocol];
  return new ApiFault(code, status, preset.message);
}
