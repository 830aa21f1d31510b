/**
 * A client session as one explicit state machine (in the spirit of pg-gateway's connection states): every phase
 * from the first byte to the close, the events that move between them, and `step(state, event) → actions` with one
 * switch. The stepper does no I/O and keeps no sockets; session.ts performs the actions (the client connection is
 * written only there, through its ClientPort), which makes every transition testable without a socket.
 *
 *   awaiting-startup ─┬──────────────────► logging-in ──upstream-opened──► relaying ──relay-ended──► closed
 *   (front door:      └► authenticating ─┘     │ refused / failed: FATAL     │  ├ released ──client speaks──► healing
 *    TLS, cancel,                              ▼                             │  ├ loss-planned ─► healing ──► relaying
 *    startup, SCRAM)                         closed                          │  ├ loss-planned ─► skipping-to-sync ─┐
 *                                                                            │  └ loss-planned ─► failed-transaction ┤
 *                                                                            └────────── (ROLLBACK / Sync) ◄──────────┘
 */
import type { ClientError } from '../protocol/client-error.js';
import type { UpstreamSession } from '../target/open-upstream.js';
import type { LossPlan } from '../healing/upstream-loss.js';
import type { RelayEnd } from './relay.js';
import { lostWithoutHealing } from './session-errors.js';
import { Phase } from './session-phase.js';

export { Phase } from './session-phase.js';

/** Why a new upstream connection is opened for a session that had one. */
export type HealCause = 'lost' | 'reopen';

export interface SessionState {
  readonly phase: Phase;
  /** The session has been answered at least once (AuthenticationOk … ReadyForQuery went out). */
  readonly greeted: boolean;
  /** While skipping to Sync: where the session goes once the Sync arrives. */
  readonly afterSkip?: 'heal' | 'failed-transaction';
}

export const INITIAL: SessionState = { phase: Phase.AwaitingStartup, greeted: false };

export type SessionEvent =
  | { readonly type: 'startup-checked'; readonly authenticating: boolean }
  | { readonly type: 'admitted' }
  | { readonly type: 'refused'; readonly error: ClientError }
  | { readonly type: 'door-closed' }
  | { readonly type: 'upstream-opened'; readonly upstream: UpstreamSession }
  | { readonly type: 'upstream-failed'; readonly error: ClientError }
  | { readonly type: 'relay-ended'; readonly end: RelayEnd; readonly facts: EndFacts }
  | { readonly type: 'loss-planned'; readonly plan: LossPlan; readonly reason: string }
  | { readonly type: 'client-spoke'; readonly chunk: Buffer }
  | { readonly type: 'synced'; readonly rest: Buffer; readonly reason: string }
  | { readonly type: 'rolled-back'; readonly rest: Buffer }
  | { readonly type: 'client-terminated' }
  | { readonly type: 'client-gone'; readonly reason: string }
  | { readonly type: 'startup-timeout'; readonly error: ClientError }
  | { readonly type: 'shutdown'; readonly error: ClientError };

/** What the session knew when its relay ended, beyond the relay's own report. */
export interface EndFacts {
  /** The client sent Terminate. */
  readonly terminated: boolean;
  readonly clientDestroyed: boolean;
  /** Healing is on (--no-heal turns it off). */
  readonly heal: boolean;
  /** The server's own FATAL among the bytes the relay held back, and its SQLSTATE. */
  readonly serverFatal?: { readonly frame: Buffer; readonly code: string } | undefined;
}

export type Action =
  /** Refuse a client that has no session: log, the FATAL error, close. */
  | { readonly kind: 'refuse'; readonly error: ClientError }
  /** End a session that had one: log, the FATAL error (the proxy's or the server's own frame), close. */
  | { readonly kind: 'end-with'; readonly error: ClientError }
  | { readonly kind: 'end-with-frame'; readonly frame: Buffer }
  | { readonly kind: 'write'; readonly bytes: Buffer }
  | { readonly kind: 'end-client' }
  | { readonly kind: 'destroy-client' }
  | { readonly kind: 'open-upstream' }
  | { readonly kind: 'abort-login'; readonly error: ClientError }
  | { readonly kind: 'discard-upstream'; readonly upstream: UpstreamSession }
  /** Answer the login (first time) or retarget the cancel key (after a heal), then relay. */
  | { readonly kind: 'relay'; readonly upstream: UpstreamSession }
  | { readonly kind: 'close-relay'; readonly error: ClientError }
  | { readonly kind: 'give-back'; readonly end: RelayEnd }
  /** Ask healing what the loss means (`held`: what the relay held back, normally the server's FATAL). */
  | { readonly kind: 'plan-loss'; readonly reason: string; readonly held?: Buffer | undefined }
  | { readonly kind: 'heal'; readonly cause: HealCause; readonly reason: string; readonly pending: Buffer }
  | { readonly kind: 'read-released' }
  | { readonly kind: 'skip-to-sync' }
  | { readonly kind: 'failed-transaction'; readonly firstError?: Buffer | undefined; readonly pending?: Buffer }
  | { readonly kind: 'ready-for-query' }
  | { readonly kind: 'finish'; readonly end?: RelayEnd | undefined };

export interface Step {
  readonly state: SessionState;
  readonly actions: readonly Action[];
}

const stay = (state: SessionState, ...actions: Action[]): Step => ({ state, actions });
const to = (state: SessionState, phase: Phase, ...actions: Action[]): Step => ({ state: { phase, greeted: state.greeted }, actions });
/** To Closed; the session's summary is written last (with the relay's end when one of the actions carries it). */
const closed = (state: SessionState, ...actions: Action[]): Step =>
  to(state, Phase.Closed, ...actions, ...(actions.some((a) => a.kind === 'finish') ? [] : [{ kind: 'finish' } as const]));

const BEFORE_LOGIN: readonly Phase[] = [Phase.AwaitingStartup, Phase.Authenticating, Phase.LoggingIn];

export function step(state: SessionState, event: SessionEvent): Step {
  const { phase } = state;
  if (phase === Phase.Closed) return closedStep(state, event);
  switch (event.type) {
    case 'startup-checked':
      return to(state, event.authenticating ? Phase.Authenticating : Phase.LoggingIn);
    case 'admitted':
      return to(state, Phase.LoggingIn, { kind: 'open-upstream' });
    case 'refused':
      return closed(state, { kind: 'refuse', error: event.error });
    case 'door-closed':
      return closed(state);
    case 'upstream-opened':
      if (phase === Phase.LoggingIn) return { state: { phase: Phase.Relaying, greeted: true }, actions: [{ kind: 'relay', upstream: event.upstream }] };
      if (phase === Phase.Healing) return to(state, Phase.Relaying, { kind: 'relay', upstream: event.upstream });
      return stay(state, { kind: 'discard-upstream', upstream: event.upstream });
    case 'upstream-failed':
      return closed(state, phase === Phase.Healing ? { kind: 'end-with', error: event.error } : { kind: 'refuse', error: event.error });
    case 'relay-ended':
      return afterRelay(state, event.end, event.facts);
    case 'loss-planned':
      return afterLossPlan(state, event.plan, event.reason);
    case 'client-spoke':
      // A released session's client speaks: a new upstream connection is opened for it.
      return to(state, Phase.Healing, { kind: 'heal', cause: 'reopen', reason: 'reopening after an idle release', pending: event.chunk });
    case 'synced':
      if (state.afterSkip === 'failed-transaction') {
        return to(state, Phase.FailedTransaction, { kind: 'ready-for-query' }, { kind: 'failed-transaction', pending: event.rest });
      }
      return to(state, Phase.Healing, { kind: 'ready-for-query' }, { kind: 'heal', cause: 'lost', reason: event.reason, pending: event.rest });
    case 'rolled-back':
      return to(state, Phase.Healing, { kind: 'heal', cause: 'lost', reason: 'the client rolled back after the connection was lost', pending: event.rest });
    case 'client-terminated':
      return closed(state, { kind: 'end-client' });
    case 'client-gone':
      // While relaying, the relay reports the end itself (with its byte counts).
      if (phase === Phase.Relaying) return stay(state);
      return closed(state);
    case 'startup-timeout':
      if (phase === Phase.LoggingIn) return stay(state, { kind: 'abort-login', error: event.error });
      if (BEFORE_LOGIN.includes(phase)) return closed(state, { kind: 'refuse', error: event.error });
      return stay(state);
    case 'shutdown':
      if (phase === Phase.Relaying) return stay(state, { kind: 'close-relay', error: event.error });
      if (BEFORE_LOGIN.includes(phase)) return closed(state, { kind: 'refuse', error: event.error });
      return closed(state, { kind: 'end-with', error: event.error });
    default:
      throw new Error(`unhandled session event ${String((event as { type: unknown }).type)}`);
  }
}

/** A closed session ignores everything, but an upstream connection that arrives late is closed. */
function closedStep(state: SessionState, event: SessionEvent): Step {
  if (event.type === 'upstream-opened') return stay(state, { kind: 'discard-upstream', upstream: event.upstream });
  return stay(state);
}

/** The relay ended: close, heal, or answer for what was lost, depending on what the session was doing. */
function afterRelay(state: SessionState, end: RelayEnd, facts: EndFacts): Step {
  const actions: Action[] = end.kept ? [{ kind: 'give-back', end }] : [];
  if (end.closedBy === 'released' && !facts.clientDestroyed) return to(state, Phase.Released, ...actions, { kind: 'read-released' });
  if (facts.terminated) {
    // The client said goodbye; whatever the server still said (FATAL for a Terminate mid-COPY) reaches it.
    if (end.held && !facts.clientDestroyed) actions.push({ kind: 'write', bytes: end.held });
    return closed(state, ...actions, { kind: 'finish', end: { ...end, closedBy: 'client', reason: 'client sent Terminate' } });
  }
  if (end.closedBy !== 'upstream' || facts.clientDestroyed) return closed(state, ...actions, { kind: 'finish', end });
  // Part of a message reached the client: nothing more can be said on this connection.
  if (!end.atBoundary) return closed(state, { kind: 'destroy-client' }, { kind: 'finish', end });
  // One error per lost statement (docs/ARCHITECTURE.md): the server's FATAL and a close, or the proxy's own
  // 08006 ERROR and a session that goes on — never both.
  if (end.fatalForwarded) return closed(state, { kind: 'finish', end });
  const fatal = facts.serverFatal;
  // The server ended the connection over the client's own bytes (a protocol violation, class 08): end the
  // session with its FATAL, as the server does — healing would only replay the same bytes.
  if (fatal && fatal.code.startsWith('08')) return closed(state, { kind: 'end-with-frame', frame: fatal.frame }, { kind: 'finish', end });
  if (!facts.heal) {
    return closed(state, fatal ? { kind: 'end-with-frame', frame: fatal.frame } : { kind: 'end-with', error: lostWithoutHealing(end.reason) },
      { kind: 'finish', end });
  }
  return stay(state, { kind: 'plan-loss', reason: end.reason, held: end.held });
}

function afterLossPlan(state: SessionState, plan: LossPlan, reason: string): Step {
  if (plan.kind === 'fatal') return closed(state, { kind: 'end-with', error: plan.error });
  const reply: Action[] = plan.reply ? [{ kind: 'write', bytes: plan.reply }] : [];
  if (plan.skipToSync) {
    return { state: { phase: Phase.SkippingToSync, greeted: state.greeted, afterSkip: plan.kind === 'heal' ? 'heal' : 'failed-transaction' },
      actions: [...reply, { kind: 'skip-to-sync' }] };
  }
  if (plan.kind === 'heal') return to(state, Phase.Healing, ...reply, { kind: 'heal', cause: 'lost', reason, pending: Buffer.alloc(0) });
  return to(state, Phase.FailedTransaction, ...reply, { kind: 'failed-transaction', firstError: plan.firstError });
}
