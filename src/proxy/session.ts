/**
 * One client connection. Its states and transitions are session-stepper.ts; this file performs the stepper's
 * actions — the only place that decides what the client is sent, through the session's ClientPort, the one writer
 * to the client connection — and turns what happens (front door outcomes, upstream logins, relay ends, timers)
 * into the stepper's events.
 */
import type { Socket } from 'node:net';
import { systemClock } from '../ops/clock.js';
import type { Clock, Timer } from '../ops/clock.js';
import { AUTHENTICATION_OK, backendKeyData, readyForQuery } from '../protocol/backend-messages.js';
import { ClientError } from '../protocol/client-error.js';
import { decodeErrorFields, fatalFrame } from '../protocol/error-fields.js';
import type { BackendKey } from '../upstream/login.js';
import { reconnect } from '../healing/reconnect.js';
import { SessionTracker } from '../healing/session-tracker.js';
import { planForLoss } from '../healing/upstream-loss.js';
import { internalError, protocolError } from '../front-door/startup-checks.js';
import { FrontDoor } from '../front-door/front-door.js';
import type { UpstreamSession } from '../target/open-upstream.js';
import { ClientPort } from './client-port.js';
import { answerFailedTransaction, readUntilSync } from './after-loss.js';
import { Relay } from './relay.js';
import type { RelayEnd } from './relay.js';
import { INITIAL, Phase, step } from './session-stepper.js';
import type { Action, EndFacts, HealCause, SessionEvent, SessionState } from './session-stepper.js';
import { startupTimeout } from './session-errors.js';
import type { SessionDeps, SessionSummary } from './session-deps.js';

export type { SessionDeps, SessionLimits, SessionSummary } from './session-deps.js';

export class Session {
  private current: SessionState = INITIAL;
  /** The phase before the latest transition (what `finish` interrupts). */
  private before: SessionState['phase'] = INITIAL.phase;
  private readonly client: ClientPort;
  private readonly door: FrontDoor;
  private readonly clock: Clock;
  private readonly started: number;
  private readonly abort = new AbortController();
  private startupTimer: Timer;
  private relay: Relay | undefined;
  /** The upstream connection being relayed to (replaced by a heal). */
  private upstream: UpstreamSession | undefined;
  private params: Map<string, string> = new Map();
  private key: BackendKey | undefined;
  private readonly tracker = new SessionTracker();
  /** Client bytes sent ahead of ReadyForQuery, forwarded once the relay starts. */
  private early: Buffer[] = [];
  private earlyBytes = 0;
  private bytes = { toClient: 0, toUpstream: 0 };
  heals = 0;
  releases = 0;
  private refusal: { code: string; message: string; hint: string | undefined } | undefined;
  private summary: { localUser?: string; dbUser?: string; database?: string; applicationName?: string } = {};
  readonly finished: Promise<SessionSummary>;
  private resolveFinished!: (s: SessionSummary) => void;

  constructor(socket: Socket, private readonly deps: SessionDeps) {
    this.clock = deps.clock ?? systemClock;
    this.started = this.clock.now();
    this.client = new ClientPort(socket, { gone: (reason) => this.onClientGone(reason) });
    this.door = new FrontDoor(this.client, { security: deps.security, cancelKeys: deps.cancelKeys, dialer: deps.dialer,
      maxStartupPacket: deps.limits.maxStartupPacket, log: deps.log, clientAddress: this.client.address }, {
      startup: (params, authenticating) => {
        this.params = params;
        this.summary = { localUser: params.get('user'), applicationName: params.get('application_name') };
        this.dispatch({ type: 'startup-checked', authenticating });
      },
      admitted: () => this.dispatch({ type: 'admitted' }),
      refused: (error) => this.dispatch({ type: 'refused', error }),
      ended: () => this.dispatch({ type: 'door-closed' }),
    });
    this.finished = new Promise((resolve) => {
      this.resolveFinished = resolve;
    });
    this.startupTimer = this.clock.setTimeout(() => this.onStartupTimeout(), deps.limits.startupTimeoutMs);
    this.client.read((chunk) => this.door.push(chunk));
  }

  /** The session's phase (for tests and logs). */
  get state(): SessionState['phase'] {
    return this.current.phase;
  }

  /** Ends the session from the proxy's side (shutdown), with a message when one can be delivered. */
  terminate(error: ClientError): void {
    this.dispatch({ type: 'shutdown', error });
  }

  private dispatch(event: SessionEvent): void {
    const next = step(this.current, event);
    this.before = this.current.phase;
    this.current = next.state;
    for (const action of next.actions) this.perform(action);
  }

  private perform(action: Action): void {
    switch (action.kind) {
      case 'refuse': return this.refuse(action.error);
      case 'end-with': return this.endWith(action.error.toErrorResponse(), action.error);
      case 'end-with-frame': return this.endWith(action.frame);
      case 'write':
        if (!this.client.destroyed) this.client.write(action.bytes);
        return;
      case 'end-client': return this.client.end();
      case 'destroy-client': return this.client.destroy();
      case 'open-upstream': return void this.login();
      case 'abort-login': return this.abort.abort(action.error);
      case 'discard-upstream': return void action.upstream.socket.destroy();
      case 'relay': return this.startRelay(action.upstream);
      case 'close-relay': return this.relay?.close(action.error.message, action.error.toErrorResponse());
      case 'give-back': return this.giveBack(action.end);
      case 'plan-loss':
        return this.dispatch({ type: 'loss-planned', plan: planForLoss(this.tracker, action.reason, action.held), reason: action.reason });
      case 'heal': return void this.heal(action.cause, action.reason, action.pending);
      case 'read-released': return this.readReleased();
      case 'skip-to-sync': return this.skipToSync();
      case 'failed-transaction': return this.failedTransaction(action.firstError, action.pending);
      case 'ready-for-query': return void this.client.write(readyForQuery(this.tracker.status));
      case 'finish': return this.finish(action.end);
      default: throw new Error(`unhandled session action ${String((action as { kind: unknown }).kind)}`);
    }
  }

  private onStartupTimeout(): void {
    // Held for an IAM Identity Center sign-in (--sign-in-wait bounds that wait itself): keep the login alive.
    if (this.current.phase === Phase.LoggingIn && this.deps.target.holdsLogins()) {
      this.startupTimer = this.clock.setTimeout(() => this.onStartupTimeout(), this.deps.limits.startupTimeoutMs);
      return;
    }
    this.dispatch({ type: 'startup-timeout', error: startupTimeout(this.current.phase, this.deps.limits.startupTimeoutMs) });
  }

  private onClientGone(reason: string): void {
    if (this.current.phase === Phase.Relaying) this.relay?.clientGone(reason);
    else this.dispatch({ type: 'client-gone', reason });
  }

  /** Credential, upstream TLS connection and login; the client's early bytes wait meanwhile (bounded). */
  private async login(): Promise<void> {
    this.client.pause();
    // What came with the startup packet's own read is kept whatever its size (one socket read at most); further
    // bytes count against the bound.
    const leftover = this.door.leftover();
    if (leftover.length > 0) this.early.push(leftover);
    this.client.read((chunk) => this.takeEarly(chunk));
    try {
      const upstream = await this.deps.dialer.open(this.params, this.abort.signal);
      this.summary.dbUser = upstream.dbUser;
      this.summary.database = upstream.database;
      this.dispatch({ type: 'upstream-opened', upstream });
    } catch (err) {
      this.dispatch({ type: 'upstream-failed', error: err instanceof ClientError ? err : internalError(err) });
    }
  }

  private takeEarly(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.early.push(chunk);
    this.earlyBytes += chunk.length;
    if (this.earlyBytes > this.deps.limits.maxStartupPacket) {
      this.dispatch({ type: 'refused', error: protocolError('the client sent too much data before the login completed') });
    }
  }

  private startRelay(up: UpstreamSession, toUpstream: Buffer = this.drainEarly()): void {
    this.startupTimer.cancel();
    const target = { upstreamKey: up.backendKey, endpoint: up.endpoint };
    if (!this.key) {
      this.tracker.startedWith(up.statusFrames);
      this.key = this.deps.cancelKeys.register(target);
      this.client.write(Buffer.concat([AUTHENTICATION_OK, ...up.statusFrames,
        backendKeyData(this.key.processId, this.key.secretKey), up.readyForQuery]));
      if (this.deps.log.isLevelEnabled('debug')) {
        this.deps.log.debug({ client: this.client.address, user: this.summary.localUser, dbUser: up.dbUser,
          database: up.database }, 'session started');
      }
    } else {
      this.deps.cancelKeys.retarget(this.key.processId, target);
    }
    this.upstream = up;
    const tracking = this.deps.limits.heal !== false;
    const relay = new Relay({ clock: this.clock, client: this.client, upstream: up.socket, pending: { toUpstream, toClient: up.leftover },
      tracker: tracking ? this.tracker : undefined, idleReleaseMs: this.deps.limits.idleReleaseMs,
      // With a pooling dialer, a connection the client leaves cleanly serves the next client (tracking tells when).
      keepUpstream: tracking && this.deps.dialer.reuses });
    this.relay = relay;
    void relay.done.then((end) => {
      this.bytes.toClient += end.bytesToClient;
      this.bytes.toUpstream += end.bytesToUpstream;
      this.dispatch({ type: 'relay-ended', end, facts: this.factsAt(end) });
    });
  }

  private drainEarly(): Buffer {
    const bytes = this.early.length === 1 ? this.early[0] as Buffer : Buffer.concat(this.early);
    this.early = [];
    this.earlyBytes = 0;
    return bytes;
  }

  private factsAt(end: RelayEnd): EndFacts {
    const frame = fatalFrame(end.held);
    return { terminated: this.tracker.terminated, clientDestroyed: this.client.destroyed, heal: this.deps.limits.heal !== false,
      serverFatal: frame ? { frame, code: decodeErrorFields(frame.subarray(5)).code } : undefined };
  }

  private giveBack(end: RelayEnd): void {
    if (!end.kept) return;
    if (this.upstream) this.deps.dialer.close({ ...this.upstream, socket: end.kept }, { clientParams: this.params, tracker: this.tracker });
    else end.kept.destroy();
  }

  private readReleased(): void {
    this.releases++;
    this.deps.log.debug({ client: this.client.address, user: this.summary.localUser }, 'idle session released its upstream connection');
    this.client.read((chunk) => {
      this.client.read(undefined);
      this.client.pause();
      this.dispatch({ type: 'client-spoke', chunk });
    });
    this.client.resume();
  }

  /** The loss was reported inside an open extended batch: drop the client's messages up to its Sync, as the server would. */
  private skipToSync(): void {
    readUntilSync(this.client, (event) => this.dispatch(event));
  }

  /** After a loss inside a transaction: the proxy answers 25P02 (failed-transaction.ts) until ROLLBACK. */
  private failedTransaction(firstError: Buffer | undefined, pending?: Buffer): void {
    answerFailedTransaction(this.client, this.tracker, firstError, pending, (event) => this.dispatch(event));
  }

  /**
   * Opens a new upstream connection for a session that lost (or gave back) its own, restores its settings and
   * prepared statements, and resumes relaying — retrying with backoff for a bounded time.
   */
  private async heal(cause: HealCause, reason: string, pending: Buffer): Promise<void> {
    this.client.pause();
    try {
      const done = await reconnect(this.deps.healDialer, this.params, this.tracker, this.deps.limits.startupTimeoutMs, this.abort.signal,
        this.clock);
      if (this.current.phase === Phase.Healing) {
        if (cause === 'lost') this.heals++;
        this.deps.log[cause === 'lost' ? 'info' : 'debug']({ client: this.client.address, user: this.summary.localUser, reason,
          attempts: done.attempts, ms: done.ms }, cause === 'lost' ? 'session healed on a new upstream connection' : 'released session reopened');
        this.early = [pending];
      }
      this.dispatch({ type: 'upstream-opened', upstream: done.upstream });
    } catch (err) {
      if (this.client.destroyed || this.abort.signal.aborted) this.dispatch({ type: 'client-gone', reason: 'client went away' });
      else this.dispatch({ type: 'upstream-failed', error: err instanceof ClientError ? err : internalError(err) });
    }
  }

  /** Refuses a client that has no session yet: the FATAL error, then the close. */
  private refuse(error: ClientError): void {
    this.refusal = { code: error.code, message: error.message, hint: error.hint };
    this.deps.log.info({ client: this.client.address, user: this.summary.localUser, sqlstate: error.code,
      err: error.message }, 'connection refused');
    this.client.end(error.toErrorResponse());
  }

  /** Ends a session with a FATAL error — the proxy's own, or the server's frame passed on. */
  private endWith(frame: Buffer, error?: ClientError): void {
    if (error) {
      this.deps.log.info({ client: this.client.address, user: this.summary.localUser, sqlstate: error.code, err: error.message,
        detail: error.detail }, 'session ended by the proxy');
    } else {
      this.deps.log.info({ client: this.client.address, user: this.summary.localUser }, 'session ended by Redshift');
    }
    this.client.end(frame);
  }

  private finish(end?: RelayEnd): void {
    this.startupTimer.cancel();
    // The connection ends with the session, as PostgreSQL closes it after Terminate; a client that only waits for
    // the close must see it.
    this.client.end();
    this.client.read(undefined);
    if (this.key) this.deps.cancelKeys.release(this.key.processId);
    // Stops a login or heal in progress (nothing else listens: not worth an Error's stack for every session).
    const working = this.before !== Phase.Relaying && this.before !== Phase.Released && this.before !== Phase.FailedTransaction
      && this.before !== Phase.SkippingToSync;
    if (working && !this.abort.signal.aborted) this.abort.abort(new Error('client went away'));
    const durationMs = this.clock.now() - this.started;
    if (this.key) {
      this.deps.log.info({ client: this.client.address, user: this.summary.localUser, dbUser: this.summary.dbUser,
        database: this.summary.database, application_name: this.summary.applicationName, durationMs,
        bytesToClient: this.bytes.toClient, bytesToUpstream: this.bytes.toUpstream, heals: this.heals,
        closedBy: end?.closedBy ?? 'proxy', reason: end?.reason ?? 'session ended by the proxy' }, 'session ended');
    }
    this.resolveFinished({ clientAddress: this.client.address, ...this.summary, durationMs,
      bytesToClient: this.bytes.toClient, bytesToUpstream: this.bytes.toUpstream, heals: this.heals,
      ...(this.refusal ? { refusal: this.refusal } : {}),
      ...(end ? { end: { ...end, bytesToClient: this.bytes.toClient, bytesToUpstream: this.bytes.toUpstream } } : {}) });
  }
}
