/**
 * The one error type of upstream authentication. `reason` is written for the person at the BI tool: it says what
 * Redshift asked for or what went wrong, and never contains the password (nor any value derived from it).
 */
export class UpstreamAuthError extends Error {
  constructor(readonly reason: string) {
    super(reason);
    this.name = 'UpstreamAuthError';
  }
}
