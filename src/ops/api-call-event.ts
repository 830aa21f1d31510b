/**
 * One AWS API call the credential cache made, as metrics record it (the cache emits it; ops stays a leaf).
 */
export interface ApiCallEvent {
  readonly key: string;
  readonly durationMs: number;
  readonly ok: boolean;
  readonly errorName?: string;
  readonly background: boolean;
}
