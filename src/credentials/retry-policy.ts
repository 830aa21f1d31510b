/**
 * Which API failures are worth another try, and how long to wait before it.
 */

/** Error names AWS uses for rate limiting across the Query and JSON protocols. */
const THROTTLING = new Set([
  'Throttling', 'ThrottlingException', 'ThrottledException', 'TooManyRequestsException',
  'RequestLimitExceeded', 'RequestThrottled', 'RequestThrottledException', 'SlowDown',
  'ProvisionedThroughputExceededException', 'BandwidthLimitExceeded', 'LimitExceededException',
]);

/** Network failures on the way to the API: the endpoint may be back a moment later. */
const TRANSIENT_NETWORK = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN', 'ENOTFOUND',
  'TimeoutError', 'RequestTimeout', 'RequestTimeoutException']);

interface MaybeAwsError {
  name?: unknown;
  code?: unknown;
  $metadata?: { httpStatusCode?: number };
}

export function isThrottling(err: unknown): boolean {
  const e = err as MaybeAwsError | undefined;
  return typeof e?.name === 'string' && THROTTLING.has(e.name);
}

export function isRetryable(err: unknown): boolean {
  if (isThrottling(err)) return true;
  const e = err as MaybeAwsError | undefined;
  const status = e?.$metadata?.httpStatusCode;
  if (typeof status === 'number' && status >= 500) return true;
  if (typeof e?.code === 'string' && TRANSIENT_NETWORK.has(e.code)) return true;
  return typeof e?.name === 'string' && TRANSIENT_NETWORK.has(e.name);
}

/** "Full jitter" exponential backoff: a random wait in [0, min(cap, base·2^attempt)]. */
export function backoffMs(attempt: number, baseMs: number, capMs: number, random: () => number = Math.random): number {
  const ceiling = Math.min(capMs, baseMs * 2 ** attempt);
  // Never zero: a burst of retries must still spread out.
  return Math.max(1, Math.round(random() * ceiling));
}
