/**
 * AWS Signature Version 4 verification, the way AWS's front end does it: parse the Authorization header, find the
 * access key, then recompute the signature with the key's secret over exactly the headers the client says it
 * signed, the same date, region and service, and the same body — using `@smithy/signature-v4`, the signer the SDK
 * itself uses, so that a disagreement means a real signing bug rather than two implementations drifting apart.
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-create-signed-request.html
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { Hash as NodeHash, Hmac as NodeHmac } from 'node:crypto';
import { SignatureV4 } from '@smithy/signature-v4';
import { AuthMessages } from './faults.js';
import type { AuthFailureKind } from './faults.js';
import type { Principal } from './types.js';

/** What the verifier needs of an HTTP request; header names are lower case, as Node delivers them. */
export interface SignedRequest {
  readonly method: string;
  readonly path: string;
  readonly query: URLSearchParams;
  readonly headers: Readonly<Record<string, string | readonly string[] | undefined>>;
  readonly body: Buffer;
}

export type Verification =
  | { readonly ok: true; readonly principal: Principal; readonly region: string }
  | { readonly ok: false; readonly kind: AuthFailureKind; readonly message: string };

/** AWS refuses requests signed more than 15 minutes away from its clock, either way. */
const MAX_SKEW_MS = 15 * 60 * 1000;

const AUTHORIZATION = /^AWS4-HMAC-SHA256 Credential=([^,\s]+),\s*SignedHeaders=([^,\s]+),\s*Signature=([0-9a-f]{64})$/;
/** `<access key>/<yyyymmdd>/<region>/<service>/aws4_request` */
const CREDENTIAL = /^([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request$/;
const AMZ_DATE = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/;

export async function verifySigV4(
  request: SignedRequest,
  findPrincipal: (accessKeyId: string) => Principal | undefined,
  service: string,
  now: number = Date.now(),
): Promise<Verification> {
  const refuse = (kind: AuthFailureKind, message: string): Verification => ({ ok: false, kind, message });

  const authorization = header(request, 'authorization');
  if (authorization === undefined) return refuse('missing', AuthMessages.missing);
  const auth = AUTHORIZATION.exec(authorization);
  const scope = auth ? CREDENTIAL.exec(auth[1] ?? '') : null;
  if (!auth || !scope) {
    return refuse('incomplete', "Authorization header requires 'Credential', 'SignedHeaders' and 'Signature' " +
      'parameters in the AWS4-HMAC-SHA256 format.');
  }
  const [, accessKeyId = '', scopeDate = '', region = '', scopeService = ''] = scope;
  const signedHeaders = (auth[2] ?? '').split(';');
  const signature = auth[3] ?? '';
  if (!signedHeaders.includes('host')) {
    return refuse('incomplete', "'Host' must be a signed header.");
  }

  const principal = findPrincipal(accessKeyId);
  if (!principal) return refuse('unknownKey', AuthMessages.unknownKey);

  // A session token is part of the identity: the expired check comes before the signature, as at AWS, so that an
  // expired session is reported as such and not as a signing error.
  const token = header(request, 'x-amz-security-token');
  if (principal.expired || (principal.expiresAt !== undefined && principal.expiresAt.getTime() <= now)) {
    return refuse('expired', AuthMessages.expired);
  }
  if ((principal.sessionToken ?? undefined) !== token) return refuse('unknownKey', AuthMessages.unknownKey);

  if (scopeService !== service) {
    return refuse('mismatch', `Credential should be scoped to correct service: '${service}'. `);
  }
  const amzDate = header(request, 'x-amz-date');
  const signingDate = amzDate === undefined ? undefined : parseAmzDate(amzDate);
  if (amzDate === undefined || signingDate === undefined) {
    return refuse('incomplete', "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.");
  }
  if (amzDate.slice(0, 8) !== scopeDate) {
    return refuse('mismatch', `Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from ` +
      `HTTP: '${scopeDate}' != '${amzDate.slice(0, 8)}', from '${amzDate}'.`);
  }
  if (signingDate.getTime() < now - MAX_SKEW_MS) {
    return refuse('mismatch', `Signature expired: ${amzDate} is now earlier than ${formatAmzDate(now - MAX_SKEW_MS)} ` +
      `(${formatAmzDate(now)} - 15 min.)`);
  }
  if (signingDate.getTime() > now + MAX_SKEW_MS) {
    return refuse('mismatch', `Signature not yet current: ${amzDate} is still later than ` +
      `${formatAmzDate(now + MAX_SKEW_MS)} (${formatAmzDate(now)} + 15 min.)`);
  }

  // The SDK sends and signs the payload hash; the signer trusts that header instead of hashing the body, so the
  // header itself must be checked against the body or any body would pass under a replayed signature.
  const contentSha = header(request, 'x-amz-content-sha256');
  if (contentSha !== undefined && contentSha !== createHash('sha256').update(request.body).digest('hex')) {
    return refuse('mismatch', "The provided 'x-amz-content-sha256' header does not match what was computed.");
  }

  const headers: Record<string, string> = {};
  for (const name of signedHeaders) {
    const value = header(request, name);
    if (value === undefined) return refuse('mismatch', AuthMessages.mismatch);
    headers[name] = value;
  }
  const signer = new SignatureV4({
    // The signer adds x-amz-security-token itself when the credentials carry one: give it only if it was signed.
    credentials: {
      accessKeyId,
      secretAccessKey: principal.secretAccessKey,
      ...(signedHeaders.includes('x-amz-security-token') && token !== undefined ? { sessionToken: token } : {}),
    },
    region,
    service,
    sha256: NodeSha256,
  });
  const resigned = await signer.sign(
    {
      method: request.method,
      protocol: 'http:',
      hostname: headers['host'] ?? '',
      path: request.path,
      query: queryRecord(request.query),
      headers,
      body: request.body,
    },
    { signingDate, signingRegion: region, signingService: service, signableHeaders: new Set(signedHeaders) },
  );
  const expected = /Signature=([0-9a-f]{64})$/.exec(String(resigned.headers['authorization'] ?? ''))?.[1] ?? '';
  if (expected.length !== signature.length || !timingSafeEqual(Buffer.from(expected), Buffer.from(signature))) {
    return refuse('mismatch', AuthMessages.mismatch);
  }
  return { ok: true, principal, region };
}

function header(request: SignedRequest, name: string): string | undefined {
  const value = request.headers[name];
  if (value === undefined) return undefined;
  return typeof value === 'string' ? value : value.join(',');
}

function queryRecord(query: URLSearchParams): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const key of new Set(query.keys())) {
    const values = query.getAll(key);
    out[key] = values.length === 1 ? (values[0] ?? '') : values;
  }
  return out;
}

function parseAmzDate(text: string): Date | undefined {
  const m = AMZ_DATE.exec(text);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s] = m.map(Number);
  return new Date(Date.UTC(y ?? 0, (mo ?? 1) - 1, d ?? 1, h ?? 0, mi ?? 0, s ?? 0));
}

function formatAmzDate(ms: number): string {
  return new Date(ms).toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
}

type SourceData = string | ArrayBuffer | ArrayBufferView;

/**
 * SHA-256 and HMAC-SHA-256 over node:crypto in the shape the signer asks for (`new (secret?) => Hash`), so that
 * no other package is needed for it.
 */
export class NodeSha256 {
  readonly #hash: NodeHash | NodeHmac;

  constructor(secret?: SourceData) {
    this.#hash = secret === undefined ? createHash('sha256') : createHmac('sha256', bytes(secret));
  }

  update(data: SourceData): void {
    this.#hash.update(bytes(data));
  }

  digest(): Promise<Uint8Array> {
    return Promise.resolve(new Uint8Array(this.#hash.digest()));
  }
}

function bytes(data: SourceData): Buffer {
  if (typeof data === 'string') return Buffer.from(data, 'utf8');
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return Buffer.from(data);
}
