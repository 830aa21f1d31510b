/**
 * A failure the client must be told about, carrying everything its ErrorResponse needs. Every module that can
 * fail before ReadyForQuery throws this (or has its errors translated into it) so that one place writes it.
 */
import { errorResponse } from './backend-messages.js';
import type { Severity } from './backend-messages.js';
import type { SqlStateCode } from './sqlstate.js';

export interface ClientErrorFields {
  readonly code: SqlStateCode | string;
  readonly message: string;
  readonly detail?: string | undefined;
  readonly hint?: string | undefined;
  readonly severity?: Severity;
}

export class ClientError extends Error {
  readonly code: string;
  readonly detail: string | undefined;
  readonly hint: string | undefined;
  readonly severity: Severity;

  constructor(fields: ClientErrorFields, options?: { cause?: unknown }) {
    super(fields.message, options);
    this.name = 'ClientError';
    this.code = fields.code;
    this.detail = fields.detail;
    this.hint = fields.hint;
    this.severity = fields.severity ?? 'FATAL';
  }

  toErrorResponse(): Buffer {
    return errorResponse({
      severity: this.severity,
      code: this.code,
      message: this.message,
      detail: this.detail,
      hint: this.hint,
    });
  }
}
