/**
 * A Redshift stand-in that speaks Redshift's own IAM Identity Center login to its client (the proxy), then hands
 * the session to a real database as the person: `<namespace>:<user>` (see idc-login.ts for the handshake). One
 * explicit state machine per connection:
 *
 *   ssl-request ──'S', TLS──► startup ──R(14)──► token ──valid──► opening (backend login) ──► relaying ──► closed
 *
 * TLS only, like a cluster; the backend (idc-pg-backend.ts: a real PostgreSQL; the demo's: PGlite) logs in as
 * the role and its greeting (ParameterStatus, BackendKeyData, ReadyForQuery) is passed on after AuthenticationOk.
 * Each login's messages are recorded (direction, type, length — never their content) for tests and the docs.
 */
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import tls from 'node:tls';
import { AUTHENTICATION_OK, errorResponse } from '../protocol/backend-messages.js';
import type { ErrorFields } from '../protocol/backend-messages.js';
import { SslAnswer } from '../protocol/codes.js';
import { FrameReader } from '../protocol/frame-reader.js';
import { decodeStartupPacket } from '../protocol/startup-packet.js';
import { SqlState } from '../protocol/sqlstate.js';
import { AUTH_REQUEST_IDP, checkIdcStartup, DEFAULT_IDC_NAMESPACE, idpTokenOf, judgeIdcToken } from './idc-login.js';
import type { IdcTokenCheck } from './idc-login.js';

/** A database session opened for the person, ready for queries. */
export interface BackendSession {
  readonly socket: net.Socket;
  /** What the client is sent after AuthenticationOk: ParameterStatus…, BackendKeyData, ReadyForQuery (and any bytes after). */
  readonly greeting: Buffer;
}

/** The database behind the stand-in. */
export interface IdcBackend {
  /** A session as `dbUser` with the client's parameters (Redshift-only ones removed), until `validUntil` at most. */
  open(dbUser: string, params: ReadonlyMap<string, string>, validUntil: Date): Promise<BackendSession>;
  /** Passes a CancelRequest on. */
  cancel(processId: number, secretKey: number): void;
}

/** One message of a login, as seen by the stand-in: who sent it, its type, its length field. */
export interface WireRecord {
  readonly from: 'client' | 'server';
  /** 'SSLRequest', 'StartupMessage', 'R(14)', 'i', 'R(0)', 'S', 'K', 'Z', 'E'… */
  readonly message: string;
  /** The Int32 length field (counting itself, not the type byte), or the answer's byte count for 'S'/'N'. */
  readonly length: number;
}

export type IdcRedshiftEvent =
  | { readonly kind: 'login'; readonly session: number; readonly dbUser: string; readonly database: string;
    readonly tls: string; readonly tokenExpiresAt: Date; readonly startup: ReadonlyMap<string, string>;
    readonly wire: readonly WireRecord[] }
  | { readonly kind: 'refused'; readonly session: number; readonly code: string; readonly message: string;
    readonly reason: string; readonly wire: readonly WireRecord[] }
  | { readonly kind: 'closed'; readonly session: number };

export interface IdcRedshiftOptions {
  readonly secureContext: tls.SecureContext;
  /** The token issuer's judgement (the emulator's identityCenter.validateToken). */
  readonly checkToken: IdcTokenCheck;
  readonly backend: IdcBackend;
  /** The cluster's identity namespace (default AWSIDC). */
  readonly namespace?: string | undefined;
  readonly onEvent?: ((event: IdcRedshiftEvent) => void) | undefined;
}

export interface IdcRedshift {
  readonly host: string;
  readonly port: number;
  /** Every event so far, in order. */
  readonly events: readonly IdcRedshiftEvent[];
  /** Ends every open connection (client side and backend), as a cluster restart would. */
  dropAll(): void;
  close(): Promise<void>;
}

/** Startup-phase frames are small; afterwards the backend frames everything itself. */
const MAX_LOGIN_FRAME = 64 * 1024;
const LOGIN_TIMEOUT_MS = 10_000;

/** Startup parameters only Redshift knows: a PostgreSQL backend would refuse them as unknown settings. */
const REDSHIFT_ONLY = new Set(['idp_type', 'token_type', 'identity_namespace', 'idc_client_display_name', 'plugin_name',
  'provider_name', 'client_protocol_version', 'driver_version', 'os_version', 'driver_discovery_version']);

export async function startIdcRedshift(options: IdcRedshiftOptions): Promise<IdcRedshift> {
  const events: IdcRedshiftEvent[] = [];
  const sockets = new Set<net.Socket>();
  let nextId = 1;
  const emit = (e: IdcRedshiftEvent): void => {
    events.push(e);
    options.onEvent?.(e);
  };
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    new IdcSession(socket, nextId++, options, emit, (s) => {
      sockets.add(s);
      s.once('close', () => sockets.delete(s));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { address, port } = server.address() as AddressInfo;
  const dropAll = (): void => {
    for (const s of sockets) s.destroy();
  };
  return {
    host: address, port, events, dropAll,
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      dropAll();
    }),
  };
}

type Step = 'ssl-request' | 'startup' | 'token' | 'opening' | 'relaying' | 'closed';

class IdcSession {
  private step: Step = 'ssl-request';
  private socket: net.Socket;
  private readonly reader = new FrameReader(MAX_LOGIN_FRAME);
  private readonly wire: WireRecord[] = [];
  private params = new Map<string, string>();
  private readonly namespace: string;

  constructor(private readonly plain: net.Socket, private readonly id: number, private readonly options: IdcRedshiftOptions,
    private readonly emit: (e: IdcRedshiftEvent) => void, private readonly track: (s: net.Socket) => void) {
    this.socket = plain;
    this.namespace = options.namespace ?? DEFAULT_IDC_NAMESPACE;
    plain.setTimeout(LOGIN_TIMEOUT_MS, () => plain.destroy());
    plain.on('data', this.onData);
    plain.on('error', () => undefined);
    plain.once('close', () => {
      if (this.step !== 'closed') emit({ kind: 'closed', session: id });
      this.step = 'closed';
    });
  }

  private readonly onData = (chunk: Buffer): void => {
    this.reader.push(chunk);
    try {
      this.advance();
    } catch (err) {
      this.refuse({ severity: 'FATAL', code: SqlState.ProtocolViolation, message: err instanceof Error ? err.message : String(err) }, 'bad frame');
    }
  };

  private advance(): void {
    while (this.step === 'ssl-request' || this.step === 'startup' || this.step === 'token') {
      if (this.step === 'token') {
        const frame = this.reader.nextTyped();
        if (!frame) return;
        const token = idpTokenOf(frame);
        this.record('client', token === undefined ? String.fromCharCode(frame.type) : 'i', frame.raw.readInt32BE(1));
        this.admit(judgeIdcToken(token, this.options.checkToken, this.namespace)).catch(() => this.socket.destroy());
        return;
      }
      const frame = this.reader.nextUntyped();
      if (!frame) return;
      const packet = decodeStartupPacket(frame.body);
      if (this.step === 'ssl-request') {
        if (packet.kind === 'cancel') {
          this.options.backend.cancel(packet.processId, packet.secretKey);
          this.plain.end();
          this.step = 'closed';
          return;
        }
        if (packet.kind !== 'ssl') {
          return this.refuse({ severity: 'FATAL', code: SqlState.InvalidAuthorizationSpecification,
            message: 'no pg_hba.conf entry: this cluster accepts TLS connections only' }, `plaintext ${packet.kind}`);
        }
        this.record('client', 'SSLRequest', frame.raw.length);
        this.startTls();
        return; // later bytes arrive on the TLS socket
      }
      if (packet.kind === 'cancel') {
        // The proxy sends cancels over verified TLS, like any startup packet.
        this.options.backend.cancel(packet.processId, packet.secretKey);
        this.socket.end();
        this.step = 'closed';
        return;
      }
      if (packet.kind !== 'startup') throw new Error(`unexpected ${packet.kind} request inside TLS`);
      this.record('client', 'StartupMessage', frame.raw.length);
      this.params = packet.params;
      const asked = checkIdcStartup(packet.params, this.namespace);
      if (!asked) {
        return this.refuse({ severity: 'FATAL', code: SqlState.InvalidAuthorizationSpecification,
          message: 'this stand-in accepts IAM Identity Center logins only (idp_type=AwsIdc)' }, 'no idp_type');
      }
      if ('fields' in asked) return this.refuse(asked.fields, asked.reason);
      this.socket.write(AUTH_REQUEST_IDP);
      this.record('server', 'R(14)', AUTH_REQUEST_IDP.readInt32BE(1));
      this.step = 'token';
    }
  }

  private startTls(): void {
    // Bytes after SSLRequest and before the handshake would be unencrypted and injectable (CVE-2021-23214).
    if (this.reader.buffered > 0) throw new Error('data after SSLRequest before the TLS handshake');
    this.plain.off('data', this.onData);
    this.plain.write(Buffer.from([SslAnswer.Yes]));
    this.record('server', 'S', 1);
    const secure = new tls.TLSSocket(this.plain, { isServer: true, secureContext: this.options.secureContext });
    secure.on('error', () => secure.destroy());
    secure.on('data', this.onData);
    this.socket = secure;
    this.step = 'startup';
  }

  private async admit(verdict: ReturnType<typeof judgeIdcToken>): Promise<void> {
    if (!verdict.ok) return this.refuse(verdict.fields, verdict.reason);
    this.step = 'opening';
    this.socket.pause();
    const database = this.params.get('database') ?? 'dev';
    const params = new Map([...this.params].filter(([k]) => !REDSHIFT_ONLY.has(k) && k !== 'user'));
    params.set('database', database);
    let session: BackendSession;
    try {
      session = await this.options.backend.open(verdict.dbUser, params, verdict.expiresAt);
    } catch (err) {
      const fields = (err as { fields?: ErrorFields }).fields;
      return this.refuse(fields ?? { severity: 'FATAL', code: SqlState.SqlserverRejectedEstablishmentOfSqlconnection,
        message: `the database refused the session: ${err instanceof Error ? err.message : String(err)}` }, 'backend login failed');
    }
    if (this.step !== 'opening' || this.socket.destroyed) {
      session.socket.destroy();
      return;
    }
    this.track(session.socket);
    this.socket.write(Buffer.concat([AUTHENTICATION_OK, session.greeting]));
    this.record('server', 'R(0)', 8);
    for (let at = 0; at + 5 <= session.greeting.length; at += 1 + session.greeting.readInt32BE(at + 1)) {
      this.record('server', String.fromCharCode(session.greeting[at] as number), session.greeting.readInt32BE(at + 1));
    }
    this.step = 'relaying';
    this.plain.setTimeout(0);
    const client = this.socket;
    const rest = this.reader.drain();
    if (rest.length > 0) session.socket.write(rest);
    client.off('data', this.onData);
    client.pipe(session.socket);
    session.socket.pipe(client);
    session.socket.on('error', () => client.destroy());
    session.socket.once('close', () => client.destroy());
    client.once('close', () => session.socket.destroy());
    client.resume();
    const tlsVersion = client instanceof tls.TLSSocket ? client.getProtocol() ?? 'TLS' : 'none';
    this.emit({ kind: 'login', session: this.id, dbUser: verdict.dbUser, database, tls: tlsVersion,
      tokenExpiresAt: verdict.expiresAt, startup: this.params, wire: this.wire });
  }

  private record(from: WireRecord['from'], message: string, length: number): void {
    this.wire.push({ from, message, length });
  }

  private refuse(fields: ErrorFields, reason: string): void {
    if (this.step === 'closed') return;
    this.step = 'closed';
    const frame = errorResponse(fields);
    this.record('server', 'E', frame.readInt32BE(1));
    this.emit({ kind: 'refused', session: this.id, code: fields.code, message: fields.message, reason, wire: this.wire });
    this.socket.end(frame);
  }
}
