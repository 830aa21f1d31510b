/**
 * A new upstream connection for a session that lost (or gave back) its own: logs in with the session's startup
 * parameters and a valid credential, replays its settings and prepared statements, and retries with backoff for a
 * bounded time while Redshift is unreachable (a restart takes a while). Fails with a ClientError saying why.
 */
import { backoffMs } from '../credentials/retry-policy.js';
import { sleepOn, systemClock } from '../ops/clock.js';
import type { Clock } from '../ops/clock.js';
import { ClientError } from '../protocol/client-error.js';
import { SqlState } from '../protocol/sqlstate.js';
import type { UpstreamSession } from '../target/open-upstream.js';
import type { UpstreamDialer } from '../target/upstream-dialer.js';
import { replaySession } from './replay-session.js';
import type { SessionTracker } from './session-tracker.js';

/** How long a session keeps trying to reach Redshift again after losing its connection. */
const RECONNECT_WINDOW_MS = 30_000;

export interface Reconnected {
  readonly upstream: UpstreamSession;
  readonly attempts: number;
  readonly ms: number;
}

export async function reconnect(dialer: UpstreamDialer, params: ReadonlyMap<string, string>, tracker: SessionTracker,
  replayTimeoutMs: number, signal: AbortSignal, clock: Clock = systemClock): Promise<Reconnected> {
  const started = clock.now();
  const delay = tracker.budget.takeDelay();
  if (delay > 0) await abortableSleep(clock, delay, signal);
  for (let attempt = 0; ; attempt++) {
    let up: UpstreamSession;
    try {
      up = await dialer.open(params, signal);
    } catch (err) {
      if (signal.aborted) throw err;
      if (clock.now() - started > RECONNECT_WINDOW_MS) {
        throw err instanceof ClientError ? err : new ClientError({ code: SqlState.ConnectionFailure,
          message: 'the connection to Redshift was lost and could not be re-established',
          detail: err instanceof Error ? err.message : String(err), hint: 'Check the cluster and reconnect.' });
      }
      await abortableSleep(clock, backoffMs(attempt, 200, 2_000), signal);
      continue;
    }
    try {
      const rest = await replaySession(up.socket, tracker, replayTimeoutMs);
      return { upstream: { ...up, leftover: Buffer.concat([up.leftover, rest]) }, attempts: attempt + 1, ms: clock.now() - started };
    } catch (err) {
      up.socket.destroy();
      throw new ClientError({ code: SqlState.ConnectionFailure,
        message: 'the connection to Redshift was lost and the session could not be restored',
        detail: err instanceof Error ? err.message : String(err), hint: 'Reconnect.' });
    }
  }
}

/** Waits on the clock, unless the session ends meanwhile (then rejects with the abort reason). */
async function abortableSleep(clock: Clock, ms: number, signal: AbortSignal): Promise<void> {
  await sleepOn(clock, ms, signal);
  signal.throwIfAborted();
}
