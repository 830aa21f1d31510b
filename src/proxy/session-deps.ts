/**
 * What a session needs and what it reports when it ends.
 */
import type { Clock } from '../ops/clock.js';
import type { Logger } from '../ops/logger.js';
import type { ListenerSecurity } from '../front-door/listener-security.js';
import type { Target } from '../target/target.js';
import type { UpstreamDialer } from '../target/upstream-dialer.js';
import type { CancelKeys } from './cancel-keys.js';
import type { RelayEnd } from './relay.js';

export interface SessionLimits {
  readonly startupTimeoutMs: number;
  readonly maxStartupPacket: number;
  /** Idle sessions release their upstream connection after this long (off when absent). */
  readonly idleReleaseMs?: number | undefined;
  /** Track session state and heal across upstream loss (default true). */
  readonly heal?: boolean | undefined;
}

export interface SessionDeps {
  readonly target: Target;
  /** How logins reach Redshift: the warm pool (--warm), or a new connection each time. */
  readonly dialer: UpstreamDialer;
  /** How heals reach Redshift: always a new connection (a spare's refills would only add to an outage). */
  readonly healDialer: UpstreamDialer;
  /** Client TLS and authentication; absent: plaintext, trusted (loopback). */
  readonly security?: ListenerSecurity | undefined;
  readonly cancelKeys: CancelKeys;
  readonly limits: SessionLimits;
  readonly log: Logger;
  /** Startup deadline, idle release and heal backoff run on it (default: the system clock). */
  readonly clock?: Clock | undefined;
}

export interface SessionSummary {
  readonly clientAddress: string;
  readonly localUser?: string;
  readonly dbUser?: string;
  readonly database?: string;
  readonly applicationName?: string;
  readonly durationMs: number;
  /** Bytes relayed each way over the whole session (every upstream connection it had). */
  readonly bytesToClient: number;
  readonly bytesToUpstream: number;
  /** Upstream connections replaced without the client noticing. */
  readonly heals: number;
  /** The ErrorResponse the client was refused with, when it never got a session (no secrets: what it was sent). */
  readonly refusal?: { readonly code: string; readonly message?: string; readonly hint?: string | undefined };
  readonly end?: RelayEnd;
}
