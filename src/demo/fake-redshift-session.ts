/**
 * One connection to the stand-in Redshift, as an explicit state machine:
 *
 *   ssl-request ──'S', TLS handshake──► startup ──AuthenticationMD5Password──► password ──ok──► ready (relay) ─► closed
 *                                              └─idp_type=AwsIdc: AuthenticationRequest 14─► token ──ok──┘
 *
 * Like a Redshift cluster it speaks TLS only (a plaintext StartupMessage is refused, as by a `hostssl`-only
 * pg_hba.conf), asks for an md5 password with a fresh random salt, and accepts only a password the control-plane
 * emulator issued to that user and only until its VALID UNTIL — afterwards the login fails with 28P01, exactly as
 * PostgreSQL answers an expired password. With `idc`, a startup asking for Redshift's IAM Identity Center login
 * is answered with code 14 and the token checked with the emulator (src/emulator/idc-login.ts, shared with the
 * tests' stand-in); the session runs as AWSIDC:<user>. After login the session's frames are relayed to the shared PGlite backend.
 * https://www.postgresql.org/docs/current/protocol-flow.html#PROTOCOL-FLOW-START-UP
 */
import { randomBytes, randomInt } from 'node:crypto';
import type net from 'node:net';
import tls from 'node:tls';
import { AUTHENTICATION_OK, backendKeyData, errorResponse, readyForQuery } from '../protocol/backend-messages.js';
import type { ErrorFields } from '../protocol/backend-messages.js';
import { bytes, int32, message } from '../protocol/builder.js';
import { AuthCode, BackendCode, FrontendCode, SslAnswer, TxStatus } from '../protocol/codes.js';
import { FrameReader } from '../protocol/frame-reader.js';
import type { Frame } from '../protocol/frame-reader.js';
import { decodeStartupPacket } from '../protocol/startup-packet.js';
import type { StartupPacket } from '../protocol/startup-packet.js';
import { SqlState } from '../protocol/sqlstate.js';
import { checkMd5Password } from './md5-password.js';
import { AUTH_REQUEST_IDP, checkIdcStartup, idpTokenOf, judgeIdcToken } from '../emulator/idc-login.js';
import type { IdcTokenCheck } from '../emulator/idc-login.js';
import type { IssuedPassword } from './md5-password.js';
import type { BackendSession, SharedBackend } from './shared-backend.js';
import { scopeNames } from './statement-names.js';

export type FakeRedshiftEvent =
  | { readonly kind: 'login'; readonly session: number; readonly user: string; readonly database: string;
    readonly tls: string; readonly validUntil: Date }
  | { readonly kind: 'refused'; readonly session: number; readonly user?: string; readonly code: string;
    readonly reason: string }
  | { readonly kind: 'closed'; readonly session: number; readonly user: string };

export interface SessionDeps {
  readonly secureContext: tls.SecureContext;
  readonly backend: SharedBackend;
  readonly database: string;
  readonly issued: (user: string) => IssuedPassword | undefined;
  readonly onEvent: (event: FakeRedshiftEvent) => void;
  /** Redshift's own IAM Identity Center login: the token check and the namespace (absent: not offered). */
  readonly idc?: { readonly check: IdcTokenCheck; readonly namespace: string } | undefined;
}

const Step = {
  SslRequest: 'ssl-request',
  Startup: 'startup',
  Password: 'password',
  Token: 'token',
  Ready: 'ready',
  Closed: 'closed',
} as const;
type Step = (typeof Step)[keyof typeof Step];

/** Queries and their results can be large; this bounds one frontend frame, as PostgreSQL's 1 GB limit does. */
const MAX_FRAME = 64 * 1024 * 1024;
/** A client that has not logged in within this time is dropped, like authentication_timeout. */
const LOGIN_TIMEOUT_MS = 10_000;

export class FakeRedshiftSession {
  private step: Step = Step.SslRequest;
  private socket: net.Socket;
  private readonly reader = new FrameReader(MAX_FRAME);
  private readonly salt = randomBytes(4);
  private user = '';
  private database = '';
  private applicationName = '';
  private backendSession: BackendSession | undefined;
  /** Batches run strictly in order; the socket is paused while one runs. */
  private running: Promise<void> = Promise.resolve();

  constructor(private readonly plain: net.Socket, readonly id: number, private readonly deps: SessionDeps) {
    this.socket = plain;
    plain.setTimeout(LOGIN_TIMEOUT_MS, () => plain.destroy());
    plain.on('data', this.onData);
    plain.on('error', () => undefined);
    plain.once('close', () => this.onClose());
  }

  destroy(): void {
    this.socket.destroy();
  }

  private readonly onData = (chunk: Buffer): void => {
    this.reader.push(chunk);
    try {
      this.advance();
    } catch (err) {
      this.refuse({ severity: 'FATAL', code: SqlState.ProtocolViolation, message: err instanceof Error ? err.message : String(err) });
    }
  };

  private advance(): void {
    for (;;) {
      switch (this.step) {
        case Step.SslRequest: {
          const frame = this.reader.nextUntyped();
          if (!frame) return;
          this.onFirstPacket(decodeStartupPacket(frame.body));
          break;
        }
        case Step.Startup: {
          const frame = this.reader.nextUntyped();
          if (!frame) return;
          this.onStartup(decodeStartupPacket(frame.body));
          break;
        }
        case Step.Password: {
          const frame = this.reader.nextTyped();
          if (!frame) return;
          this.onPassword(frame);
          break;
        }
        case Step.Token: {
          const frame = this.reader.nextTyped();
          if (!frame) return;
          this.onToken(frame);
          break;
        }
        case Step.Ready:
          this.relay();
          return;
        case Step.Closed:
          return;
        default:
          throw new Error(`unknown step ${String(this.step satisfies never)}`);
      }
    }
  }

  private onFirstPacket(packet: StartupPacket): void {
    switch (packet.kind) {
      case 'ssl':
        return this.startTls();
      case 'gssenc':
        this.socket.write(Buffer.from([SslAnswer.No]));
        return;
      case 'cancel':
        // PGlite runs one statement at a time in this process and cannot be interrupted: nothing to cancel.
        this.close();
        return;
      case 'startup':
        this.user = packet.params.get('user') ?? '';
        return this.refuse({ severity: 'FATAL', code: SqlState.InvalidAuthorizationSpecification,
          message: `no pg_hba.conf entry for host "${this.socket.remoteAddress ?? ''}", user "${this.user}", database "${packet.params.get('database') ?? ''}", no encryption`,
          hint: 'This server, like Redshift here, accepts TLS connections only.' }, 'plaintext startup refused');
      default:
        throw new Error(`unknown packet ${String(packet satisfies never)}`);
    }
  }

  private startTls(): void {
    // Bytes sent after SSLRequest but before the handshake would be unencrypted and injectable (CVE-2021-23214).
    if (this.reader.buffered > 0) throw new Error('data after SSLRequest before the TLS handshake');
    const plain = this.plain;
    plain.off('data', this.onData);
    plain.write(Buffer.from([SslAnswer.Yes]));
    const secure = new tls.TLSSocket(plain, { isServer: true, secureContext: this.deps.secureContext });
    secure.on('error', () => secure.destroy());
    secure.on('data', this.onData);
    this.socket = secure;
    this.step = Step.Startup;
  }

  private onStartup(packet: StartupPacket): void {
    if (packet.kind !== 'startup') throw new Error(`unexpected ${packet.kind} request inside TLS`);
    if (packet.major !== 3) {
      return this.refuse({ severity: 'FATAL', code: SqlState.FeatureNotSupported,
        message: `unsupported frontend protocol ${packet.major}.${packet.minor}: server supports 3.0` });
    }
    this.database = packet.params.get('database') ?? 'dev';
    this.applicationName = packet.params.get('application_name') ?? '';
    const idc = this.deps.idc;
    const asked = idc ? checkIdcStartup(packet.params, idc.namespace) : undefined;
    if (!idc && packet.params.has('idp_type')) {
      return this.refuse({ severity: 'FATAL', code: SqlState.InvalidAuthorizationSpecification,
        message: 'AWS IdC identity provider does not exist' }, 'Identity Center is not enabled on this demo cluster');
    }
    if (asked) {
      if ('fields' in asked) return this.refuse(asked.fields, asked.reason);
      this.socket.write(AUTH_REQUEST_IDP);
      this.step = Step.Token;
      return;
    }
    this.user = packet.params.get('user') ?? '';
    if (this.user === '') {
      return this.refuse({ severity: 'FATAL', code: SqlState.InvalidAuthorizationSpecification,
        message: 'no PostgreSQL user name specified in startup packet' });
    }
    this.database = packet.params.get('database') ?? this.user;
    // https://www.postgresql.org/docs/current/protocol-message-formats.html#PROTOCOL-MESSAGE-FORMATS-AUTHENTICATIONMD5PASSWORD
    this.socket.write(message(BackendCode.Authentication, [int32(AuthCode.MD5Password), bytes(this.salt)]));
    this.step = Step.Password;
  }

  private onPassword(frame: Frame): void {
    if (frame.type !== FrontendCode.Password) throw new Error('expected a password response');
    const answer = frame.body.subarray(0, Math.max(0, frame.body.indexOf(0)));
    const verdict = checkMd5Password(this.user, answer, this.salt, this.deps.issued(this.user));
    if (!verdict.ok) {
      return this.refuse({ severity: 'FATAL', code: SqlState.InvalidPassword,
        message: `password authentication failed for user "${this.user}"` }, verdict.reason);
    }
    this.admit(verdict.validUntil);
  }

  private onToken(frame: Frame): void {
    const idc = this.deps.idc;
    if (!idc) throw new Error('no Identity Center login was offered');
    const verdict = judgeIdcToken(idpTokenOf(frame), idc.check, idc.namespace);
    if (!verdict.ok) return this.refuse(verdict.fields, verdict.reason);
    this.user = verdict.dbUser;
    this.admit(verdict.expiresAt);
  }

  /** The login succeeded (md5 or token): the session starts as this.user. */
  private admit(validUntil: Date): void {
    if (this.database !== this.deps.database) {
      return this.refuse({ severity: 'FATAL', code: SqlState.InvalidCatalogName,
        message: `database "${this.database}" does not exist`, hint: `This demo serves the database "${this.deps.database}".` });
    }
    this.backendSession = { id: this.id, user: this.user, awaitingSync: false };
    this.socket.write(Buffer.concat([
      AUTHENTICATION_OK,
      ...this.deps.backend.parameterFrames(this.user, this.applicationName),
      backendKeyData(randomInt(1, 2 ** 31), randomInt(0, 2 ** 31)),
      readyForQuery(TxStatus.Idle),
    ]));
    this.plain.setTimeout(0);
    this.step = Step.Ready;
    const protocol = this.socket instanceof tls.TLSSocket ? this.socket.getProtocol() ?? 'TLS' : 'none';
    this.deps.onEvent({ kind: 'login', session: this.id, user: this.user, database: this.database, tls: protocol, validUntil });
  }

  /** Whole frames go to the backend as one batch; Terminate ends the session here (PGlite must not exit). */
  private relay(): void {
    const frames: Buffer[] = [];
    let terminate = false;
    for (let frame = this.reader.nextTyped(); frame; frame = this.reader.nextTyped()) {
      if (frame.type === FrontendCode.Terminate) {
        terminate = true;
        break;
      }
      frames.push(scopeNames(frame.raw, `s${this.id}.`));
    }
    const session = this.backendSession;
    if (!session) return;
    if (frames.length > 0) {
      const batch = Buffer.concat(frames);
      this.socket.pause();
      this.running = this.running
        .then(() => this.deps.backend.run(session, batch, (chunk) => this.socket.write(chunk)))
        .then(() => {
          this.socket.resume();
        }, () => this.close());
    }
    if (terminate) void this.running.then(() => this.close());
  }

  private refuse(fields: ErrorFields, reason: string = fields.message): void {
    this.deps.onEvent({ kind: 'refused', session: this.id, user: this.user || undefined, code: fields.code, reason });
    this.step = Step.Closed;
    this.socket.end(errorResponse(fields));
  }

  private close(): void {
    this.step = Step.Closed;
    this.socket.end();
  }

  private onClose(): void {
    this.step = Step.Closed;
    const session = this.backendSession;
    if (!session) return;
    this.backendSession = undefined;
    this.deps.backend.withdraw(session);
    void this.running.finally(() => this.deps.backend.end(session)).catch(() => undefined);
    this.deps.onEvent({ kind: 'closed', session: this.id, user: this.user });
  }
}
