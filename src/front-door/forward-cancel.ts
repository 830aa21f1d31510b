/**
 * A client's CancelRequest carries the proxy-issued key. When it is known, the matching upstream key is sent to
 * Redshift on a new verified-TLS connection (PostgreSQL accepts CancelRequest after the SSL negotiation, like any
 * startup packet). Unknown keys are dropped silently, as PostgreSQL does, so keys cannot be probed.
 * https://www.postgresql.org/docs/current/protocol-flow.html#PROTOCOL-FLOW-CANCELING-REQUESTS
 */
import type { Logger } from '../ops/logger.js';
import type { CancelKeys } from '../proxy/cancel-keys.js';
import type { UpstreamDialer } from '../target/upstream-dialer.js';

export function forwardCancel(
  keys: CancelKeys, dialer: UpstreamDialer, processId: number, secretKey: number, log: Logger, source?: string,
): void {
  // The key first: junk costs a lookup and nothing of the budget real cancels need.
  const target = keys.lookup(processId, secretKey);
  if (!target?.upstreamKey) {
    log.debug('cancel request with an unknown key ignored');
    return;
  }
  if (!keys.admit(source)) {
    // CancelRequest has no reply in the protocol; the refusal can only be logged.
    log.warn({ source }, 'cancel request dropped: more cancel requests per second from this address than the bound allows');
    return;
  }
  const { upstreamKey, endpoint } = target;
  dialer.cancel({ upstreamKey, endpoint })
    .catch((err: unknown) => log.warn({ err: err instanceof Error ? err.message : String(err) }, 'cancel could not be forwarded'));
}
