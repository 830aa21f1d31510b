/**
 * Frontend messages the proxy writes to Redshift. pg-protocol's serializer always appends
 * `client_encoding=UTF8` to a StartupMessage, which would duplicate a client's own setting, so the startup
 * frame is built here; password and SASL messages come from pg-protocol (see upstream/auth).
 * See https://www.postgresql.org/docs/current/protocol-message-formats.html
 */
import { RequestCode } from './codes.js';
import { cstring, int32, untypedMessage } from './builder.js';

/** SSLRequest: length 8, code 80877103. Built once. */
export const SSL_REQUEST: Buffer = untypedMessage([int32(RequestCode.SSLRequest)]);

/** StartupMessage for protocol 3.0 with the given parameters, in order. */
export function startupMessage(params: ReadonlyMap<string, string>): Buffer {
  const parts = [int32(RequestCode.Protocol3)];
  for (const [name, value] of params) parts.push(cstring(name), cstring(value));
  parts.push(cstring(''));
  return untypedMessage(parts);
}

export function cancelRequest(processId: number, secretKey: number): Buffer {
  return untypedMessage([int32(RequestCode.CancelRequest), int32(processId), int32(secretKey)]);
}

/** Terminate: 'X', length 4. */
export const TERMINATE: Buffer = Buffer.from([0x58, 0, 0, 0, 4]);
