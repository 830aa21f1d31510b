/**
 * A client's CancelRequest carries the proxy-issued key. When it is known, the matching upstream key is sent to
 * Redshift on a new verified-TLS connection (PostgreSQL accepts CancelRequest after the SSL negotiation, like any
 * startup packet). Unknown keys are dropped silently, as PostgreSQL does, so keys cannot be probed.
 * https://www.postgresql.org/docs/current/protocol-flow.html#PROTOCOL-FLOW-CANCELING-REQUESTS
 */
import type { Logger } from '../ops/logger.js';
import { cancelRequest } from '../protocol/frontend-messages.js';
import { connectTls } from '../upstream/connect-tls.js';
import type { CancelKeys } from '../proxy/cancel-keys.js';

export function forwardCancel(keys: CancelKeys, processId: number, secretKey: number, log: Logger): void {
  if (!keys.admit()) {
    // CancelRequest has no reply in the protocol; the refusal can only be logged.
    log.warn('cancel request dropped: more cancel requests per second than the bound allows');
    return;
  }
  const target = keys.lookup(processId, secretKey);
  if (!target?.upstreamKey) {
    log.debug('cancel request with an unknown key ignored');
    return;
  }
  const { upstreamKey, endpoint } = target;
  connectTls(endpoint)
    .then((socket) => {
      socket.on('error', () => socket.destroy());
      socket.end(cancelRequest(upstreamKey.processId, upstreamKey.secretKey));
    })
    .catch((err: unknown) => log.warn({ err: err instanceof Error ? err.message : String(err) }, 'cancel could not be forwarded'));
}
