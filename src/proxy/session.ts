/**
 * One client connection, as an explicit state machine:
 *
 *   awaiting-startup ──StartupMessage──► logging-in ──ReadyForQuery──► relaying ──► closed
 *        │  SSLRequest/GSSENCRequest: answer 'N', stay            │ failure: FATAL ErrorResponse, close
 *        │  CancelRequest: forward if the key is known, close
 *
 * Every failure before ReadyForQuery reaches the client as a FATAL ErrorResponse with a SQLSTATE and a hint.
 */
import type { Socket } from 'node:net';
import type { Logger } from '../ops/logger.js';
import { AUTHENTICATION_OK, backendKeyData, negotiateProtocolVersion } from '../protocol/backend-messages.js';
import { ClientError } from '../protocol/client-error.js';
import { SslAnswer } from '../protocol/codes.js';
import { FrameError, FrameReader } from '../protocol/frame-reader.js';
import { decodeStartupPacket } from '../protocol/startup-packet.js';
import type { StartupPacket } from '../protocol/startup-packet.js';
import { SqlState } from '../protocol/sqlstate.js';
import type { CancelKeys } from './cancel-keys.js';
import { forwardCancel } from './forward-cancel.js';
import { openUpstream } from './open-upstream.js';
import type { UpstreamSession } from './open-upstream.js';
import { Relay } from './relay.js';
import type { RelayEnd } from './relay.js';
import type { Target } from './target.js';

export interface SessionLimits {
  readonly startupTimeoutMs: number;
  readonly maxStartupPacket: number;
}

export interface SessionDeps {
  readonly target: Target;
  readonly cancelKeys: CancelKeys;
  readonly limits: SessionLimits;
  readonly log: Logger;
}

export type SessionState = 'awaiting-startup' | 'logging-in' | 'relaying' | 'closed';

/** At most one SSLRequest and one GSSENCRequest precede a startup packet. */
const MAX_ENCRYPTION_REQUESTS = 2;

export interface SessionSummary {
  readonly clientAddress: string;
  readonly localUser?: string;
  readonly dbUser?: string;
  readonly database?: string;
  readonly applicationName?: string;
  readonly durationMs: number;
  readonly end?: RelayEnd;
}

export class Session {
  state: SessionState = 'awaiting-startup';
  private readonly reader: FrameReader;
  private readonly started = Date.now();
  private readonly abort = new AbortController();
  private readonly startupTimer: NodeJS.Timeout;
  private encryptionRequests = 0;
  private relay: Relay | undefined;
  private upstream: UpstreamSession | undefined;
  private summary: { localUser?: string; dbUser?: string; database?: string; applicationName?: string } = {};
  readonly finished: Promise<SessionSummary>;
  private resolveFinished!: (s: SessionSummary) => void;

  constructor(private readonly client: Socket, private readonly deps: SessionDeps) {
    this.reader = new FrameReader(deps.limits.maxStartupPacket);
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
    if (this.relay) {
      this.relay.close(error.message, error.toErrorResponse());
      return;
    }
    this.fail(error);
  }

  private readonly onData = (chunk: Buffer): void => {
    if (this.state !== 'awaiting-startup') {
      // Bytes sent before login completed wait in the reader and are forwarded after ReadyForQuery.
      this.reader.push(chunk);
      if (this.reader.buffered > this.deps.limits.maxStartupPacket) {
        this.fail(protocolError('the client sent too much data before the login completed'));
      }
      return;
    }
    this.reader.push(chunk);
    try {
      for (let frame = this.reader.nextUntyped(); frame && this.state === 'awaiting-startup'; frame = this.state === 'awaiting-startup' ? this.reader.nextUntyped() : null) {
        this.step(decodeStartupPacket(frame.body));
      }
    } catch (err) {
      if (err instanceof FrameError) this.fail(protocolError(err.message));
      else this.fail(internalError(err));
    }
  };

  private step(packet: StartupPacket): void {
    switch (packet.kind) {
      case 'ssl':
      case 'gssenc':
        if (++this.encryptionRequests > MAX_ENCRYPTION_REQUESTS) throw new FrameError('too many encryption requests');
        // Client-side TLS is not offered on this listener: 'N' tells the client to go on in plaintext (loopback).
        this.client.write(Buffer.of(SslAnswer.No));
        return;
      case 'cancel':
        // No answer either way, as PostgreSQL does: the client learns nothing about which keys exist.
        this.client.destroy();
        forwardCancel(this.deps.cancelKeys, packet.processId, packet.secretKey, this.deps.log);
        this.close();
        return;
      case 'startup':
        this.state = 'logging-in';
        this.client.pause();
        void this.login(packet.major, packet.minor, packet.params);
        return;
      default:
        throw new Error(`unhandled startup packet ${String((packet as { kind: unknown }).kind)}`);
    }
  }

  private async login(major: number, minor: number, params: Map<string, string>): Promise<void> {
    try {
      if (major !== 3) {
        throw new ClientError({
          code: SqlState.FeatureNotSupported,
          message: `unsupported frontend protocol ${major}.${minor}: the proxy speaks protocol 3.0`,
          hint: 'Use a PostgreSQL client library from the last twenty years.',
        });
      }
      const unrecognised = [...params.keys()].filter((k) => k.startsWith('_pq_.'));
      if (minor > 0 || unrecognised.length > 0) this.client.write(negotiateProtocolVersion(0, unrecognised));
      for (const k of unrecognised) params.delete(k);
      checkStartup(params);
      this.summary = { localUser: params.get('user'), applicationName: params.get('application_name') };
      this.upstream = await openUpstream(this.deps.target, params, this.abort.signal);
      this.summary.dbUser = this.upstream.dbUser;
      this.summary.database = this.upstream.database;
      if (this.state !== 'logging-in') {
        this.upstream.socket.destroy();
        return;
      }
      this.startRelay(this.upstream);
    } catch (err) {
      if (this.state === 'closed') return;
      this.fail(err instanceof ClientError ? err : internalError(err));
    }
  }

  private startRelay(up: UpstreamSession): void {
    clearTimeout(this.startupTimer);
    const key = this.deps.cancelKeys.register({ upstreamKey: up.backendKey, endpoint: up.endpoint });
    const hello = Buffer.concat([AUTHENTICATION_OK, ...up.statusFrames, backendKeyData(key.processId, key.secretKey),
      up.readyForQuery]);
    this.client.write(hello);
    this.client.off('data', this.onData);
    this.state = 'relaying';
    this.relay = new Relay(this.client, up.socket, { toUpstream: this.reader.drain(), toClient: up.leftover });
    this.deps.log.info({ client: this.clientAddress, user: this.summary.localUser, dbUser: up.dbUser,
      database: up.database }, 'session started');
    void this.relay.done.then((end) => {
      this.deps.cancelKeys.release(key.processId);
      this.close(end);
    });
  }

  private onStartupTimeout(): void {
    if (this.state === 'awaiting-startup') {
      this.fail(protocolError(`the client did not send a startup packet within ${this.deps.limits.startupTimeoutMs} ms`));
    } else if (this.state === 'logging-in') {
      this.abort.abort(new ClientError({
        code: SqlState.SqlclientUnableToEstablishSqlconnection,
        message: `logging in to Redshift took longer than ${this.deps.limits.startupTimeoutMs} ms`,
        hint: 'The AWS API or the cluster is slow to answer; try again, or raise --startup-timeout.',
      }));
    }
  }

  private fail(error: ClientError): void {
    if (this.state === 'closed') return;
    this.deps.log.info({ client: this.clientAddress, user: this.summary.localUser, sqlstate: error.code,
      err: error.message }, 'connection refused');
    if (!this.client.destroyed) this.client.end(error.toErrorResponse());
    setTimeout(() => this.client.destroy(), 1_000).unref();
    this.close();
  }

  private close(end?: RelayEnd): void {
    if (this.state === 'closed' && !end) {
      return;
    }
    const wasRelaying = this.state === 'relaying';
    this.state = 'closed';
    clearTimeout(this.startupTimer);
    if (!this.abort.signal.aborted) this.abort.abort(new Error('client went away'));
    if (wasRelaying && !end) return; // the relay reports its own end
    if (end) {
      this.deps.log.info({ client: this.clientAddress, user: this.summary.localUser, dbUser: this.summary.dbUser,
        database: this.summary.database, application: this.summary.applicationName, durationMs: Date.now() - this.started,
        bytesToClient: end.bytesToClient, bytesToUpstream: end.bytesToUpstream, closedBy: end.closedBy, reason: end.reason },
      'session ended');
    }
    this.resolveFinished({ clientAddress: this.clientAddress, ...this.summary, durationMs: Date.now() - this.started,
      ...(end ? { end } : {}) });
  }

  private get clientAddress(): string {
    return `${this.client.remoteAddress ?? 'unknown'}:${this.client.remotePort ?? 0}`;
  }
}

/** Startup parameters the proxy refuses before any AWS call. */
function checkStartup(params: Map<string, string>): void {
  if (!params.get('user')) {
    throw new ClientError({
      code: SqlState.InvalidAuthorizationSpecification,
      message: 'no user name was given in the startup packet',
      hint: 'Set the user name in your tool\'s connection settings (it becomes the Redshift database user).',
    });
  }
  const replication = params.get('replication');
  if (replication !== undefined && !['false', 'off', 'no', '0'].includes(replication.toLowerCase())) {
    throw new ClientError({
      code: SqlState.FeatureNotSupported,
      message: 'replication connections are not supported through redshift-auth-proxy',
      hint: 'Redshift does not offer PostgreSQL replication; connect without the replication parameter.',
    });
  }
}

function protocolError(message: string): ClientError {
  return new ClientError({
    code: SqlState.ProtocolViolation,
    message: `invalid connection request: ${message}`,
    hint: 'Connect with a PostgreSQL client (psql, JDBC, ODBC, libpq-based tools) to this port.',
  });
}

function internalError(err: unknown): ClientError {
  return new ClientError({
    code: SqlState.InternalError,
    message: `internal error in redshift-auth-proxy: ${err instanceof Error ? err.message : String(err)}`,
    hint: 'Please report this with the proxy log.',
  }, { cause: err });
}
