/**
 * The first phase of a client connection, before anything is asked of AWS: encryption requests (TLS when the
 * listener offers it, else 'N'), CancelRequest, the startup packet's protocol checks and — when the listener has a
 * password — the client's SCRAM-SHA-256 exchange. The session feeds it the client's bytes and hears the outcome
 * through FrontDoorEvents; its answers go out through the session's ClientPort; bytes that follow the startup are
 * handed back by `leftover()`.
 */
import type { ClientPort } from '../proxy/client-port.js';
import type { Logger } from '../ops/logger.js';
import { negotiateProtocolVersion } from '../protocol/backend-messages.js';
import { ClientError } from '../protocol/client-error.js';
import { FrontendCode, SslAnswer } from '../protocol/codes.js';
import { FrameError, FrameReader } from '../protocol/frame-reader.js';
import { decodeStartupPacket } from '../protocol/startup-packet.js';
import type { StartupPacket } from '../protocol/startup-packet.js';
import { SqlState } from '../protocol/sqlstate.js';
import type { CancelKeys } from '../proxy/cancel-keys.js';
import type { UpstreamDialer } from '../target/upstream-dialer.js';
import type { ListenerSecurity } from './listener-security.js';
import { saslStart, ScramServerExchange } from './scram-server.js';
import { forwardCancel } from './forward-cancel.js';
import { checkStartup, internalError, protocolError } from './startup-checks.js';


export interface FrontDoorEvents {
  /** The startup packet passed its checks; `authenticating` when a password exchange follows. */
  startup(params: Map<string, string>, authenticating: boolean): void;
  /** The client may log in (its startup checked and, when the listener asks for it, its password proved). */
  admitted(): void;
  /** Refuse the client with this error. */
  refused(error: ClientError): void;
  /** The connection ends without a session (a cancel request, a failed TLS handshake). */
  ended(): void;
}

export interface FrontDoorDeps {
  readonly security?: ListenerSecurity | undefined;
  readonly cancelKeys: CancelKeys;
  /** Delivers a forwarded cancel upstream (the session's dialer). */
  readonly dialer: UpstreamDialer;
  readonly maxStartupPacket: number;
  readonly log: Logger;
  readonly clientAddress: string;
}

export class FrontDoor {
  /** The client's bytes, framed. */
  private readonly reader: FrameReader;
  private phase: 'startup' | 'authenticating' | 'done' = 'startup';
  /** At most one SSLRequest and one GSSENCRequest precede a startup packet. */
  private readonly encryptionAsked = new Set<'ssl' | 'gssenc'>();
  private secured = false;
  private scram: ScramServerExchange | undefined;
  private user = '';

  constructor(private readonly client: ClientPort, private readonly deps: FrontDoorDeps, private readonly events: FrontDoorEvents) {
    this.reader = new FrameReader(deps.maxStartupPacket);
  }

  /** What the client sent after its startup (and password), ahead of ReadyForQuery: handed over once admitted. */
  leftover(): Buffer {
    return this.reader.drain();
  }

  /** Feeds the client's bytes while the front door has not finished. */
  push(chunk: Buffer): void {
    this.reader.push(chunk);
    if (this.phase === 'authenticating') {
      this.authStep();
      return;
    }
    try {
      for (let frame = this.reader.nextUntyped(); frame && this.phase === 'startup'; frame = this.phase === 'startup' ? this.reader.nextUntyped() : null) {
        this.step(decodeStartupPacket(frame.body));
      }
    } catch (err) {
      this.phase = 'done';
      if (err instanceof FrameError && err.silent) this.dropSilently(err.message);
      else if (err instanceof FrameError) this.events.refused(protocolError(err.message));
      else if (err instanceof ClientError) this.events.refused(err);
      else this.events.refused(internalError(err));
    }
  }

  /** As PostgreSQL does for a startup packet it cannot even frame: close, and only log it. */
  private dropSilently(why: string): void {
    this.deps.log.debug({ client: this.deps.clientAddress, err: why }, 'connection closed before startup');
    this.client.destroy();
    this.events.ended();
  }

  private step(packet: StartupPacket): void {
    switch (packet.kind) {
      case 'ssl':
      case 'gssenc': {
        // One of each kind may precede the startup packet; PostgreSQL reads a repeated one as a StartupMessage of
        // protocol 1234.5679 (or .5680) and refuses that version.
        if (this.encryptionAsked.has(packet.kind)) throw unsupportedProtocol(1234, packet.kind === 'ssl' ? 5679 : 5680);
        this.encryptionAsked.add(packet.kind);
        const tls = this.deps.security?.tls;
        if (packet.kind === 'ssl' && tls && !this.secured) {
          // Bytes after SSLRequest but before the handshake would bypass TLS (CVE-2021-23214): refuse them.
          if (this.reader.buffered > 0) throw new FrameError('the client sent data after SSLRequest before the TLS handshake');
          this.startTls(tls);
          return;
        }
        // No (more) encryption on offer: 'N' tells the client to go on as it is.
        this.client.write(Buffer.of(SslAnswer.No));
        return;
      }
      case 'cancel':
        // No answer either way, as PostgreSQL does: the client learns nothing about which keys exist.
        this.phase = 'done';
        this.client.destroy();
        forwardCancel(this.deps.cancelKeys, this.deps.dialer, packet.processId, packet.secretKey, this.deps.log,
          this.client.source ?? 'local');
        this.events.ended();
        return;
      case 'startup':
        if (this.deps.security?.requireTls && !this.secured) {
          throw new ClientError({
            code: SqlState.InvalidAuthorizationSpecification,
            message: 'this proxy listener accepts TLS connections only',
            hint: 'Connect with sslmode=require (or "SSL: require" in your tool).',
          });
        }
        this.client.pause();
        this.admit(packet.major, packet.minor, packet.params);
        return;
      default:
        throw new Error(`unhandled startup packet ${String((packet as { kind: unknown }).kind)}`);
    }
  }

  /** Protocol version, `_pq_` options and parameter checks; then the password exchange or admission. */
  private admit(major: number, minor: number, params: Map<string, string>): void {
    if (major !== 3) throw unsupportedProtocol(major, minor);
    const unrecognised = [...params.keys()].filter((k) => k.startsWith('_pq_.'));
    if (minor > 0 || unrecognised.length > 0) this.client.write(negotiateProtocolVersion(0, unrecognised));
    for (const k of unrecognised) params.delete(k);
    checkStartup(params);
    this.user = params.get('user') ?? '';
    const verifier = this.deps.security?.scram;
    this.events.startup(params, verifier !== undefined);
    if (!verifier) {
      this.phase = 'done';
      this.events.admitted();
      return;
    }
    // The client proves it knows the listener's password before anything is asked of AWS.
    this.phase = 'authenticating';
    this.scram = new ScramServerExchange(verifier);
    this.client.write(saslStart());
    this.client.resume();
    this.authStep();
  }

  /** Answers 'S' and moves onto a TLS socket; the client's next frame arrives encrypted. */
  private startTls(tls: NonNullable<ListenerSecurity['tls']>): void {
    this.client.write(Buffer.of(SslAnswer.Yes));
    this.client.upgrade((raw) => tls.upgrade(raw), () => this.phase === 'startup').then((moved) => {
      if (moved) this.secured = true;
    }, (err: unknown) => {
      this.deps.log.info({ client: this.deps.clientAddress, err: err instanceof Error ? err.message : String(err) }, 'client TLS handshake failed');
      this.phase = 'done';
      this.client.destroy();
      this.events.ended();
    });
  }

  /** Runs the client's SCRAM-SHA-256 exchange; on success the client is admitted. */
  private authStep(): void {
    try {
      for (let f = this.reader.nextTyped(); f && this.phase === 'authenticating'; f = this.reader.nextTyped()) {
        // As PostgreSQL: any other message here (a Terminate included) is a protocol violation.
        if (f.type !== FrontendCode.Password || !this.scram) throw new FrameError(`expected SASL response, got message type ${f.type}`);
        const step = this.scram.step(f.body);
        if ('error' in step) {
          throw new ClientError({
            code: SqlState.InvalidPassword,
            message: `password authentication failed for user "${this.user}"`,
            hint: 'Use the password configured for this proxy listener (--client-password), not a Redshift password.',
          });
        }
        this.client.write(step.reply);
        if (step.done) {
          this.phase = 'done';
          this.scram = undefined;
          this.events.admitted();
        }
      }
    } catch (err) {
      // A malformed password message is the client's protocol error, not the proxy's.
      this.phase = 'done';
      const refusal = err instanceof ClientError ? err : protocolError(err instanceof Error ? err.message : String(err));
      // A wrong password is answered after a pause that grows with the failures from this address (auth_delay).
      const delay = this.deps.security?.authDelay;
      const address = this.client.source;
      if (delay && address && refusal.code === SqlState.InvalidPassword) delay.delay(address, () => this.events.refused(refusal));
      else this.events.refused(refusal);
    }
  }
}

/** PostgreSQL's answer (FATAL 0A000) to a protocol version it does not speak; our hint added. */
function unsupportedProtocol(major: number, minor: number): ClientError {
  return new ClientError({
    code: SqlState.FeatureNotSupported,
    message: `unsupported frontend protocol ${major}.${minor}: the proxy speaks protocol 3.0`,
    hint: 'Use a PostgreSQL client library from the last twenty years.',
  });
}
