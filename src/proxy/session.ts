/**
 * One client connection, as an explicit state machine:
 *
 *   awaiting-startup ─┬─────────────► logging-in ──ReadyForQuery──► relaying ──► closed
 *   (front-door.ts:   └► authenticating ─┘  │ failure: FATAL        │ upstream lost: healing, failed-transaction,
 *    TLS, cancel, startup checks, SCRAM)    │ ErrorResponse, close  │ or closed; idle release: released
 *
 * Every failure before ReadyForQuery reaches the client as a FATAL ErrorResponse with a SQLSTATE and a hint.
 */
import type { Socket } from 'node:net';
import type { Logger } from '../ops/logger.js';
import { AUTHENTICATION_OK, backendKeyData, readyForQuery } from '../protocol/backend-messages.js';
import { decodeErrorFields } from '../protocol/error-fields.js';
import { ClientError } from '../protocol/client-error.js';
import { TxStatus } from '../protocol/codes.js';
import type { BackendKey } from '../upstream/login.js';
import { FailedTransaction } from '../healing/failed-transaction.js';
import { SkipToSync } from '../healing/skip-to-sync.js';
import { reconnect } from '../healing/reconnect.js';
import type { Reconnected } from '../healing/reconnect.js';
import { SessionTracker } from '../healing/session-tracker.js';
import { SqlState } from '../protocol/sqlstate.js';
import { internalError, protocolError } from '../front-door/startup-checks.js';
import { planForLoss } from '../healing/upstream-loss.js';
import type { CancelKeys } from './cancel-keys.js';
import { FrontDoor } from '../front-door/front-door.js';
import type { UpstreamSession } from '../target/open-upstream.js';
import type { UpstreamDialer } from '../target/upstream-dialer.js';
import { Relay } from './relay.js';
import type { RelayEnd } from './relay.js';
import type { Target } from '../target/target.js';
import type { ListenerSecurity } from '../front-door/listener-security.js';

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
}

export type SessionState = 'awaiting-startup' | 'authenticating' | 'logging-in' | 'relaying' | 'released' | 'failed-transaction' | 'skipping' | 'healing' | 'closed';


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

export class Session {
  state: SessionState = 'awaiting-startup';
  private readonly door: FrontDoor;
  private readonly started = Date.now();
  private readonly abort = new AbortController();
  private startupTimer: NodeJS.Timeout;
  private relay: Relay | undefined;
  /** The upstream connection being relayed to (replaced by a heal). */
  private upstream: UpstreamSession | undefined;
  private params: Map<string, string> = new Map();
  private key: BackendKey | undefined;
  private readonly tracker = new SessionTracker();
  private failed: FailedTransaction | undefined;
  /** Stops the skip to Sync after a loss inside an extended batch (set while it runs). */
  private offSkip: (() => void) | undefined;
  private bytes = { toClient: 0, toUpstream: 0 };
  heals = 0;
  releases = 0;
  private refusal: { code: string; message: string; hint: string | undefined } | undefined;
  private summary: { localUser?: string; dbUser?: string; database?: string; applicationName?: string } = {};
  readonly finished: Promise<SessionSummary>;
  private resolveFinished!: (s: SessionSummary) => void;

  private readonly clientAddress: string;

  constructor(private client: Socket, private readonly deps: SessionDeps) {
    this.clientAddress = peerOf(client);
    this.door = new FrontDoor(client, { security: deps.security, cancelKeys: deps.cancelKeys,
      maxStartupPacket: deps.limits.maxStartupPacket, log: deps.log, clientAddress: this.clientAddress }, {
      startup: (params, authenticating) => {
        this.params = params;
        this.summary = { localUser: params.get('user'), applicationName: params.get('application_name') };
        this.state = authenticating ? 'authenticating' : 'logging-in';
      },
      admitted: () => {
        this.state = 'logging-in';
        void this.connect();
      },
      upgrading: () => this.client.off('data', this.onData),
      secured: (secure) => this.onSecured(secure),
      refused: (error) => this.fail(error),
      ended: () => this.close(),
    });
    this.finished = new Promise((resolve) => {
      this.resolveFinished = resolve;
    });
    client.setNoDelay(true);
    client.setKeepAlive(true, 60_000);
    this.startupTimer = setTimeout(() => this.onStartupTimeout(), deps.limits.startupTimeoutMs);
    client.on('data', this.onData);
    client.on('error', () => this.close());
    client.once('close', () => this.close());
  }

  /** Ends the session from the proxy's side (shutdown), with a message when one can be delivered. */
  terminate(error: ClientError): void {
    if (this.state === 'relaying' && this.relay) {
      this.relay.close(error.message, error.toErrorResponse());
      return;
    }
    if (this.state === 'healing' || this.state === 'failed-transaction' || this.state === 'skipping') {
      this.endWith(error);
      return;
    }
    this.fail(error);
  }

  private readonly onData = (chunk: Buffer): void => {
    if (this.state === 'awaiting-startup' || this.state === 'authenticating') {
      this.door.push(chunk);
      return;
    }
    // Bytes sent before login completed wait in the reader and are forwarded after ReadyForQuery.
    this.door.reader.push(chunk);
    if (this.door.reader.buffered > this.deps.limits.maxStartupPacket) {
      this.fail(protocolError('the client sent too much data before the login completed'));
    }
  };

  /** The client's connection moved onto TLS: the session follows it there. */
  private onSecured(secure: Socket): void {
    if (this.state === 'closed') {
      secure.destroy();
      return;
    }
    this.client = secure;
    secure.on('data', this.onData);
    secure.on('error', () => this.close());
    secure.once('close', () => this.close());
  }

  /** Credential, upstream TLS connection and login; then the client is let in. */
  private async connect(): Promise<void> {
    try {
      this.client.pause();
      const upstream = await this.deps.dialer.open(this.params, this.abort.signal);
      this.summary.dbUser = upstream.dbUser;
      this.summary.database = upstream.database;
      if (this.state !== 'logging-in') {
        upstream.socket.destroy();
        return;
      }
      this.startRelay(upstream);
    } catch (err) {
      if (this.state === 'closed') return;
      this.fail(err instanceof ClientError ? err : internalError(err));
    }
  }

  private startRelay(up: UpstreamSession, toUpstream: Buffer = this.door.reader.drain()): void {
    clearTimeout(this.startupTimer);
    const target = { upstreamKey: up.backendKey, endpoint: up.endpoint };
    if (!this.key) {
      this.tracker.startedWith(up.statusFrames);
      this.key = this.deps.cancelKeys.register(target);
      this.client.write(Buffer.concat([AUTHENTICATION_OK, ...up.statusFrames,
        backendKeyData(this.key.processId, this.key.secretKey), up.readyForQuery]));
      this.client.off('data', this.onData);
      if (this.deps.log.isLevelEnabled('debug')) {
        this.deps.log.debug({ client: this.clientAddress, user: this.summary.localUser, dbUser: up.dbUser,
          database: up.database }, 'session started');
      }
    } else {
      this.deps.cancelKeys.retarget(this.key.processId, target);
    }
    this.state = 'relaying';
    this.upstream = up;
    const tracking = this.deps.limits.heal !== false;
    // With a warm pool, a connection the client leaves cleanly serves the next client (tracking tells when).
    const relay = new Relay(this.client, up.socket, { toUpstream, toClient: up.leftover },
      tracking ? this.tracker : undefined, this.deps.limits.idleReleaseMs, tracking && this.deps.dialer.reuses);
    this.relay = relay;
    void relay.done.then((end) => {
      this.bytes.toClient += end.bytesToClient;
      this.bytes.toUpstream += end.bytesToUpstream;
      this.afterRelay(end);
    });
  }

  private readonly onReleasedData = (chunk: Buffer): void => {
    this.client.off('data', this.onReleasedData);
    this.client.pause();
    void this.heal('reopening after an idle release', chunk);
  };

  /** The relay ended: close, heal, or answer for a lost transaction, depending on what the session was doing. */
  private afterRelay(end: RelayEnd): void {
    if (end.kept) {
      if (this.upstream) {
        this.deps.dialer.close({ ...this.upstream, socket: end.kept }, { clientParams: this.params, tracker: this.tracker });
      } else {
        end.kept.destroy();
      }
    }
    if (end.closedBy === 'released' && !this.client.destroyed && this.state === 'relaying') {
      this.releases++;
      this.state = 'released';
      this.deps.log.debug({ client: this.clientAddress, user: this.summary.localUser }, 'idle session released its upstream connection');
      this.client.on('data', this.onReleasedData);
      this.client.resume();
      return;
    }
    if (this.tracker.terminated) {
      // The client said goodbye (Terminate); whichever socket closed first, the client ended the session. What the
      // server still said (a FATAL for a Terminate in the middle of COPY) reaches the client, as it would directly.
      if (end.held && !this.client.destroyed) this.client.write(end.held);
      this.close({ ...end, closedBy: 'client', reason: 'client sent Terminate' });
      return;
    }
    if (end.closedBy !== 'upstream' || this.client.destroyed || this.state === 'closed') {
      this.close(end);
      return;
    }
    if (!end.atBoundary) {
      // Part of a message reached the client: nothing more can be said on this connection.
      this.client.destroy();
      this.close(end);
      return;
    }
    // One error per lost statement (docs/ARCHITECTURE.md): either the server's FATAL and a close, or the proxy's
    // own 08006 ERROR and a session that goes on — never both.
    if (end.fatalForwarded) {
      this.close(end);
      return;
    }
    const serverFatal = fatalFrame(end.held);
    // The server ended the connection over the client's own bytes (a protocol violation, class 08): as the server,
    // end the session with its FATAL — healing would only replay the same bytes.
    if (serverFatal && sqlstateOf(serverFatal).startsWith('08')) {
      this.endWithFrame(serverFatal, end);
      return;
    }
    if (this.deps.limits.heal === false) {
      if (serverFatal) this.endWithFrame(serverFatal, end);
      else this.endWith(new ClientError({ code: SqlState.ConnectionFailure, message: `the connection to Redshift was lost (${end.reason})`,
        detail: 'Any transaction in progress was rolled back by the server.', hint: 'Reconnect.' }), end);
      return;
    }
    const plan = planForLoss(this.tracker, end.reason, end.held);
    if (plan.kind === 'fatal') {
      this.endWith(plan.error, end);
      return;
    }
    if (plan.reply) this.client.write(plan.reply);
    if (plan.skipToSync) {
      this.skipToSync(plan.kind, end.reason);
      return;
    }
    if (plan.kind === 'heal') {
      void this.heal(end.reason);
      return;
    }
    this.enterFailedTransaction(plan.firstError);
  }

  private enterFailedTransaction(firstError: Buffer | undefined, pending?: Buffer): void {
    this.state = 'failed-transaction';
    this.failed = new FailedTransaction(firstError);
    this.client.on('data', this.onFailedData);
    this.client.resume();
    if (pending && pending.length > 0) this.onFailedData(pending);
  }

  /** The loss was reported inside an open extended batch: drop the client's messages up to its Sync, as the server would. */
  private skipToSync(then: 'heal' | 'failed-transaction', reason: string): void {
    this.state = 'skipping';
    const skip = new SkipToSync();
    const onSkipData = (chunk: Buffer): void => {
      let outcome;
      try {
        outcome = skip.consume(chunk);
      } catch {
        this.client.off('data', onSkipData);
        this.client.destroy();
        this.close();
        return;
      }
      if (outcome.kind === 'skipping') return;
      this.client.off('data', onSkipData);
      if (outcome.kind === 'terminate') {
        this.client.end();
        this.close();
        return;
      }
      this.client.write(readyForQuery(this.tracker.status));
      if (then === 'failed-transaction') {
        this.enterFailedTransaction(undefined, outcome.rest);
        return;
      }
      this.client.pause();
      void this.heal(reason, outcome.rest);
    };
    this.offSkip = () => this.client.off('data', onSkipData);
    this.client.on('data', onSkipData);
    this.client.resume();
  }

  private readonly onFailedData = (chunk: Buffer): void => {
    if (!this.failed) return;
    let outcome;
    try {
      outcome = this.failed.consume(chunk);
    } catch {
      this.client.destroy();
      this.close();
      return;
    }
    if (outcome.reply.length > 0) this.client.write(outcome.reply);
    if (outcome.end?.kind === 'terminate') {
      this.client.end();
      this.close();
    } else if (outcome.end?.kind === 'rolled-back') {
      this.client.off('data', this.onFailedData);
      this.client.pause();
      this.tracker.status = TxStatus.Idle;
      this.failed = undefined;
      void this.heal('the client rolled back after the connection was lost', outcome.end.rest);
    }
  };

  /**
   * Opens a new upstream connection for an idle session, restores its settings and prepared statements, and
   * resumes relaying — retrying with backoff for a bounded time. The client notices nothing but a short wait.
   */
  private async heal(reason: string, pending: Buffer = Buffer.alloc(0)): Promise<void> {
    this.state = 'healing';
    let done: Reconnected;
    try {
      done = await reconnect(this.deps.healDialer, this.params, this.tracker, this.deps.limits.startupTimeoutMs, this.abort.signal);
    } catch (err) {
      if (this.client.destroyed || this.abort.signal.aborted) this.close();
      else this.endWith(err instanceof ClientError ? err : internalError(err));
      return;
    }
    if (this.client.destroyed || this.state !== 'healing') {
      done.upstream.socket.destroy();
      this.close();
      return;
    }
    const reopening = reason.startsWith('reopening');
    if (!reopening) this.heals++;
    this.deps.log[reopening ? 'debug' : 'info']({ client: this.clientAddress, user: this.summary.localUser, reason,
      attempts: done.attempts, ms: done.ms }, reopening ? 'released session reopened' : 'session healed on a new upstream connection');
    this.startRelay(done.upstream, pending);
  }


  /** Passes the server's own FATAL ErrorResponse on and ends the session, as the server ended its connection. */
  private endWithFrame(frame: Buffer, end: RelayEnd): void {
    this.deps.log.info({ client: this.clientAddress, user: this.summary.localUser }, 'session ended by Redshift');
    if (!this.client.destroyed) this.client.end(frame);
    this.close(end);
  }

  /** Writes a FATAL error and ends the session. */
  private endWith(error: ClientError, end?: RelayEnd): void {
    this.deps.log.info({ client: this.clientAddress, user: this.summary.localUser, sqlstate: error.code, err: error.message,
      detail: error.detail }, 'session ended by the proxy');
    if (!this.client.destroyed) this.client.end(error.toErrorResponse());
    this.close(end);
  }

  private onStartupTimeout(): void {
    if (this.state === 'awaiting-startup') {
      this.fail(protocolError(`the client did not send a startup packet within ${this.deps.limits.startupTimeoutMs} ms`));
    } else if (this.state === 'authenticating') {
      // PostgreSQL's authentication_timeout: a client stalled in the password exchange does not hold a session.
      this.fail(protocolError(`the client did not complete password authentication within ${this.deps.limits.startupTimeoutMs} ms`));
    } else if (this.state === 'logging-in') {
      // Held for an IAM Identity Center sign-in (--sign-in-wait bounds that wait itself): keep the login alive.
      if (this.deps.target.holdsLogins()) {
        this.startupTimer = setTimeout(() => this.onStartupTimeout(), this.deps.limits.startupTimeoutMs);
        return;
      }
      this.abort.abort(new ClientError({
        code: SqlState.SqlclientUnableToEstablishSqlconnection,
        message: `logging in to Redshift took longer than ${this.deps.limits.startupTimeoutMs} ms`,
        hint: 'The AWS API or the cluster is slow to answer; try again, or raise --startup-timeout.',
      }));
    }
  }

  private fail(error: ClientError): void {
    if (this.state === 'closed') return;
    this.refusal = { code: error.code, message: error.message, hint: error.hint };
    this.deps.log.info({ client: this.clientAddress, user: this.summary.localUser, sqlstate: error.code,
      err: error.message }, 'connection refused');
    if (!this.client.destroyed) this.client.end(error.toErrorResponse());
    setTimeout(() => this.client.destroy(), 1_000).unref();
    this.close();
  }

  private close(end?: RelayEnd): void {
    if (this.state === 'closed') return;
    if (this.state === 'relaying' && !end) return; // the relay reports its own end
    const working = this.state !== 'relaying' && this.state !== 'released' && this.state !== 'failed-transaction'
      && this.state !== 'skipping';
    this.state = 'closed';
    clearTimeout(this.startupTimer);
    // The connection ends with the session, as PostgreSQL closes it after Terminate; a client that only waits for
    // the close must see it.
    if (!this.client.destroyed) {
      const client = this.client;
      client.end();
      setTimeout(() => client.destroy(), 1_000).unref();
    }
    this.client.off('data', this.onFailedData);
    this.client.off('data', this.onReleasedData);
    this.offSkip?.();
    if (this.key) this.deps.cancelKeys.release(this.key.processId);
    // Stops a login or heal in progress (nothing else listens: not worth an Error's stack for every session).
    if (working && !this.abort.signal.aborted) this.abort.abort(new Error('client went away'));
    const durationMs = Date.now() - this.started;
    if (this.key) {
      this.deps.log.info({ client: this.clientAddress, user: this.summary.localUser, dbUser: this.summary.dbUser,
        database: this.summary.database, application_name: this.summary.applicationName, durationMs,
        bytesToClient: this.bytes.toClient, bytesToUpstream: this.bytes.toUpstream, heals: this.heals,
        closedBy: end?.closedBy ?? 'proxy', reason: end?.reason ?? 'session ended by the proxy' }, 'session ended');
    }
    this.resolveFinished({ clientAddress: this.clientAddress, ...this.summary, durationMs,
      bytesToClient: this.bytes.toClient, bytesToUpstream: this.bytes.toUpstream, heals: this.heals,
      ...(this.refusal ? { refusal: this.refusal } : {}),
      ...(end ? { end: { ...end, bytesToClient: this.bytes.toClient, bytesToUpstream: this.bytes.toUpstream } } : {}) });
  }

}

/** For logs: read once, at accept (a closed socket no longer knows its peer). */
function peerOf(client: Socket): string {
  // Unix-socket peers have no address; say so rather than "unknown:0".
  if (client.remoteAddress === undefined) return 'unix socket';
  return `${client.remoteAddress}:${client.remotePort ?? 0}`;
}

/** The first frame of what the relay held back, when it is a whole FATAL (or PANIC) ErrorResponse. */
function fatalFrame(held: Buffer | undefined): Buffer | undefined {
  if (!held || held.length < 5) return undefined;
  const end = 1 + held.readInt32BE(1);
  if (end < 5 || held.length < end) return undefined;
  const { severity } = decodeErrorFields(held.subarray(5, end));
  return severity === 'FATAL' || severity === 'PANIC' ? held.subarray(0, end) : undefined;
}

function sqlstateOf(errorFrame: Buffer): string {
  return decodeErrorFields(errorFrame.subarray(5)).code;
}
