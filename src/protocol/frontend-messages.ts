/**
 * Frontend messages the proxy writes to Redshift, built with protocol/builder.ts; the fixed ones once.
 * pg-protocol's serializer is not used for them: it always appends `client_encoding=UTF8` to a StartupMessage (which
 * would duplicate a client's own setting) and has no message for Redshift's digest ('d') and identity-provider
 * token ('i') answers, so the startup frame here and the answers in upstream/auth are built by the proxy.
 * pg-protocol serves `commands/` (the `check` command's own simple query), where it is a client like any other.
 * See https://www.postgresql.org/docs/current/protocol-message-formats.html
 */
import { FrontendCode, RequestCode } from './codes.js';
import { cstring, int32, message, untypedMessage } from './builder.js';

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

/** Terminate: 'X', length 4. Built once. */
export const TERMINATE: Buffer = message(FrontendCode.Terminate, []);

/** Sync: 'S', length 4. Built once. */
export const SYNC: Buffer = message(FrontendCode.Sync, []);

/** A simple Query. */
export function simpleQuery(sql: string): Buffer {
  return message(FrontendCode.Query, [cstring(sql)]);
}
