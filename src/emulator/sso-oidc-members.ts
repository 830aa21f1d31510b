/**
 * Reading the `sso-oauth` service's REST-JSON request bodies, and the two errors every operation can answer.
 */
import { ApiFault } from './faults.js';

/** Typed reads of a REST-JSON body; a member of the wrong type is InvalidRequestException. */
export class Members {
  constructor(private readonly input: Readonly<Record<string, unknown>>) {}

  static parse(body: string): Members {
    let input: unknown;
    try {
      input = body.trim() === '' ? {} : JSON.parse(body);
    } catch {
      throw invalidRequest('the request body is not JSON');
    }
    if (typeof input !== 'object' || input === null || Array.isArray(input)) throw invalidRequest('the request body must be an object');
    return new Members(input as Record<string, unknown>);
  }

  string(name: string): string | undefined {
    const v = this.input[name];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'string') throw invalidRequest(`${name} must be a string`);
    return v;
  }

  list(name: string): string[] | undefined {
    const v = this.input[name];
    if (v === undefined || v === null) return undefined;
    if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) throw invalidRequest(`${name} must be a list of strings`);
    return v as string[];
  }
}

export function invalidRequest(message: string): ApiFault {
  return new ApiFault('InvalidRequestException', 400, message, { error: 'invalid_request' });
}

export function invalidGrant(message: string): ApiFault {
  return new ApiFault('InvalidGrantException', 400, message, { error: 'invalid_grant' });
}
