/**
 * Decoding of an ErrorResponse / NoticeResponse body into its fields, for errors Redshift sends during login.
 * See https://www.postgresql.org/docs/current/protocol-error-fields.html
 */
import { BackendCode } from './codes.js';

export interface DecodedError {
  readonly severity: string;
  readonly code: string;
  readonly message: string;
  readonly detail?: string;
  readonly hint?: string;
}

export function decodeErrorFields(body: Buffer): DecodedError {
  const fields = new Map<string, string>();
  let at = 0;
  while (at < body.length && body[at] !== 0) {
    const type = String.fromCharCode(body[at] as number);
    const end = body.indexOf(0, at + 1);
    if (end < 0) break;
    fields.set(type, body.toString('utf8', at + 1, end));
    at = end + 1;
  }
  const detail = fields.get('D');
  const hint = fields.get('H');
  return {
    severity: fields.get('V') ?? fields.get('S') ?? 'ERROR',
    code: fields.get('C') ?? 'XX000',
    message: fields.get('M') ?? 'unknown error',
    ...(detail !== undefined ? { detail } : {}),
    ...(hint !== undefined ? { hint } : {}),
  };
}

/** The first frame of `bytes` when it is a whole ErrorResponse of severity FATAL or PANIC (the server closes after it). */
export function fatalFrame(bytes: Buffer | undefined): Buffer | undefined {
  if (!bytes || bytes.length < 5 || bytes[0] !== BackendCode.ErrorResponse) return undefined;
  const end = 1 + bytes.readInt32BE(1);
  if (end < 5 || bytes.length < end) return undefined;
  const { severity } = decodeErrorFields(bytes.subarray(5, end));
  return severity === 'FATAL' || severity === 'PANIC' ? bytes.subarray(0, end) : undefined;
}
