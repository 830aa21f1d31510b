/**
 * Backend messages the proxy writes to its clients.
 * See https://www.postgresql.org/docs/current/protocol-message-formats.html
 */
import { AuthCode, BackendCode, ErrorField } from './codes.js';
import { byte, cstring, int32, message } from './builder.js';
import type { Part } from './builder.js';
import type { SqlStateCode } from './sqlstate.js';

/** AuthenticationOk: 'R', length 8, int32 0. Built once: it never changes. */
export const AUTHENTICATION_OK: Buffer = message(BackendCode.Authentication, [int32(AuthCode.Ok)]);

export function parameterStatus(name: string, value: string): Buffer {
  return message(BackendCode.ParameterStatus, [cstring(name), cstring(value)]);
}

export function backendKeyData(processId: number, secretKey: number): Buffer {
  return message(BackendCode.BackendKeyData, [int32(processId), int32(secretKey)]);
}

export function readyForQuery(status: number): Buffer {
  return message(BackendCode.ReadyForQuery, [byte(status)]);
}

/**
 * NegotiateProtocolVersion: the newest minor version we support for the requested major, and the
 * `_pq_.` options we did not recognise.
 */
export function negotiateProtocolVersion(newestMinor: number, unrecognised: readonly string[]): Buffer {
  return message(BackendCode.NegotiateProtocolVersion, [
    int32(newestMinor),
    int32(unrecognised.length),
    ...unrecognised.map((o) => cstring(o)),
  ]);
}

export type Severity = 'ERROR' | 'FATAL' | 'PANIC' | 'WARNING' | 'NOTICE' | 'INFO' | 'LOG';

/** The fields of an ErrorResponse or NoticeResponse the proxy fills in. */
export interface ErrorFields {
  readonly severity: Severity;
  readonly code: SqlStateCode | string;
  readonly message: string;
  readonly detail?: string | undefined;
  readonly hint?: string | undefined;
}

function fieldParts(fields: ErrorFields): Part[] {
  const parts: Part[] = [
    byte(ErrorField.Severity), cstring(fields.severity),
    byte(ErrorField.SeverityRaw), cstring(fields.severity),
    byte(ErrorField.Code), cstring(fields.code),
    byte(ErrorField.Message), cstring(fields.message),
  ];
  if (fields.detail) parts.push(byte(ErrorField.Detail), cstring(fields.detail));
  if (fields.hint) parts.push(byte(ErrorField.Hint), cstring(fields.hint));
  parts.push(byte(0));
  return parts;
}

export function errorResponse(fields: ErrorFields): Buffer {
  return message(BackendCode.ErrorResponse, fieldParts(fields));
}

export function noticeResponse(fields: ErrorFields): Buffer {
  return message(BackendCode.NoticeResponse, fieldParts(fields));
}
