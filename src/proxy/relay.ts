/**
 * After login: bytes move both ways as they arrive, with backpressure (a slow reader pauses the other side rather
 * than letting the proxy buffer an unbounded result). Frames are observed at their headers only — plus the few
 * client message bodies session tracking reads — and never rebuilt. The relay ends once and reports which side
 * ended it; when the upstream ends, the client socket is left open and paused for the session to decide what
 * the client is told (or whether the session is healed onto a new connection).
 */
import type { TLSSocket } from 'node:tls';
import { systemClock } from '../ops/clock.js';
import type { Clock, Timer } from '../ops/clock.js';
import { fatalFrame } from '../protocol/error-fields.js';
import { TERMINATE } from '../protocol/frontend-messages.js';
import { FrameScanner } from '../protocol/frame-scanner.js';
import { guardErrors, endUpstream } from '../upstream/end-upstream.js';
import type { RelayEnd, RelayOptions } from './relay-types.js';

export type { RelayEnd, RelayOptions } from './relay-types.js';
/** Where other rooms have always found them. */
export { endUpstream, guardErrors } from '../upstream/end-upstream.js';
import type { SessionTracker } from '../healing/session-tracker.js';
import type { ClientPort } from './client-port.js';

/**
 * How long an ErrorResponse is held back to see whether the connection ends: an unsolicited one from an idle
 * upstream, and a FATAL at any time (the server closes right after one).
 */
const HOLD_MS = 250;
/** An ErrorResponse larger than this is not read for its severity (errors are a few hundred bytes). */
const MAX_HELD_ERROR = 64 * 1024;
/**
 * PostgreSQL sends a large result 8 KB at a time, each write one TLS record and one 'data' event here. A chunk at
 * least this large means a result is streaming in: the client socket is corked until the end of the event-loop turn,
 * so the records decrypted from one read leave in one write (writev) rather than one system call each. Smaller
 * chunks — the answers of short queries — are written at once, never delayed.
 */
const BATCH_CHUNK = 4096;
/**
 * While a turn's chunks are gathered, how much the client may have unsent before the upstream is paused; outside a
 * batch the socket's own high-water mark (16 KB) decides. Bounds what a slow client makes the proxy hold.
 */
export const BATCH_LIMIT = 256 * 1024;

export class Relay {
  readonly done: Promise<RelayEnd>;
  readonly toClient: FrameScanner;
  private bytesToClient = 0;
  private bytesToUpstream = 0;
  private ended = false;
  private held: Buffer[] | undefined;
  /** The client socket is corked for this turn's chunks (see BATCH_CHUNK). */
  private batching = false;
  /** The upstream is paused until the client drains; the client until the upstream drains. */
  private clientFull = false;
  private upstreamFull = false;
  private readonly flushBatch = (): void => {
    this.batching = false;
    this.client.uncork();
  };
  private readonly onClientDrain = (): void => {
    this.clientFull = false;
    if (!this.ended) this.upstream.resume();
  };
  private readonly onUpstreamDrain = (): void => {
    this.upstreamFull = false;
    if (!this.ended) this.client.resume();
  };
  private holdTimer: NodeJS.Timeout | undefined;
  /** The held bytes start with a FATAL (the session is told, and the client sees it only if the connection stays). */
  private heldFatal = false;
  private fatalForwarded = false;
  private idleTimer: Timer | undefined;
  private readonly clock: Clock;
  private resolveDone!: (end: RelayEnd) => void;
  private readonly onClientData: (chunk: Buffer) => void;
  private readonly onUpstreamChunk = (chunk: Buffer): void => this.onUpstreamData(chunk);
  private readonly onUpstreamClose = (): void => this.finish('upstream', 'Redshift closed the connection');
  private readonly onUpstreamError = (err: Error): void => this.finish('upstream', `upstream socket error: ${err.message}`);
  /** The client's Terminate was kept from the upstream connection, which may then serve another client. */
  private terminateWithheld = false;

  private readonly client: ClientPort;
  private readonly upstream: TLSSocket;
  private readonly tracker: SessionTracker | undefined;
  private readonly keepUpstream: boolean;

  constructor(options: RelayOptions) {
    const { client, upstream, pending, tracker, idleReleaseMs } = options;
    this.client = client;
    this.upstream = upstream;
    this.tracker = tracker;
    this.keepUpstream = options.keepUpstream === true;
    this.clock = options.clock ?? systemClock;
    this.done = new Promise((resolve) => {
      this.resolveDone = resolve;
    });
    // One walk of the server's bytes: session tracking's scanner when tracking, else one that inspects nothing.
    this.toClient = tracker?.fromServer ?? new FrameScanner({}, ignoreFrame);
    this.onClientData = (data: Buffer) => {
      this.tracker?.fromClient.observe(data);
      const chunk = this.keepUpstream && this.tracker?.terminated === true ? this.withholdTerminate(data) : data;
      this.bytesToUpstream += chunk.length;
      if (this.terminateWithheld) {
        // Goodbye: nothing the client sends after Terminate counts, and it may be waiting for the close.
        if (chunk.length > 0) this.upstream.write(chunk);
        this.finish('client', 'client sent Terminate');
        return;
      }
      if (!this.upstream.write(chunk) && !this.upstreamFull) {
        this.upstreamFull = true;
        this.client.pause();
        this.upstream.once('drain', this.onUpstreamDrain);
      }
    };
    upstream.on('data', this.onUpstreamChunk);
    client.read(this.onClientData);
    upstream.once('close', this.onUpstreamClose);
    upstream.on('error', this.onUpstreamError);
    if (pending.toUpstream.length > 0) this.onClientData(pending.toUpstream);
    if (pending.toClient.length > 0) this.forwardToClient(pending.toClient);
    if (this.ended) return;
    client.resume();
    upstream.resume();
    if (idleReleaseMs && tracker) this.watchIdle(idleReleaseMs, tracker);
  }

  /** The client's side ended or failed (the session, which owns the client connection, says so). */
  clientGone(reason: string): void {
    this.finish('client', reason);
  }

  /**
   * The chunk without the client's Terminate, when that is its last message (as clients send it); otherwise the
   * chunk as it is, and the upstream connection ends with the client's session.
   */
  private withholdTerminate(chunk: Buffer): Buffer {
    if (this.terminateWithheld) return chunk;
    const n = chunk.length;
    if (n >= TERMINATE.length && chunk.compare(TERMINATE, 0, TERMINATE.length, n - TERMINATE.length, n) === 0) {
      this.terminateWithheld = true;
      return chunk.subarray(0, n - TERMINATE.length);
    }
    return chunk;
  }

  /** Checks twice per period; releases when nothing moved since the last check and the session is idle. */
  private watchIdle(ms: number, tracker: SessionTracker): void {
    let lastSeen = -1;
    const check = (): void => {
      if (this.ended) return;
      if (this.activity === lastSeen && tracker.idle && !tracker.unhealable && this.release()) return;
      lastSeen = this.activity;
      this.idleTimer = this.clock.setTimeout(check, ms / 2);
    };
    this.idleTimer = this.clock.setTimeout(check, ms / 2);
  }

  /** Increases with every chunk relayed either way: lets an idle check see whether anything happened. */
  get activity(): number {
    return this.bytesToClient + this.bytesToUpstream;
  }

  /**
   * Gives the upstream connection back (Terminate) while keeping the client; false when not at a quiet point.
   */
  release(): boolean {
    if (this.ended || !this.toClient.atBoundary || this.held) return false;
    this.upstream.end(TERMINATE);
    this.finish('released', 'idle release');
    return true;
  }

  /** Ends the session from the proxy's side, telling the client why when a message boundary allows it. */
  close(reason: string, message?: Buffer): void {
    if (this.ended) return;
    if (message && this.toClient.atBoundary) this.client.end(message);
    else this.client.destroy();
    this.finish('proxy', reason);
  }

  private onUpstreamData(chunk: Buffer): void {
    if (this.ended) return;
    if (this.held) {
      this.held.push(chunk);
      if (this.holdTimer === undefined) this.judgeHeld();
      return;
    }
    // Bytes up to an ErrorResponse go on at once; from there they are held until the error is whole and judged.
    const at = this.toClient.observe(chunk, true);
    if (at < 0) {
      this.writeToClient(chunk);
      return;
    }
    if (at > 0) this.writeToClient(chunk.subarray(0, at));
    this.held = [chunk.subarray(at)];
    this.judgeHeld();
  }

  /**
   * The held bytes start with an ErrorResponse. A FATAL announces the server ending the connection, and an
   * unsolicited error (nothing in flight) usually does too (administrator command, restart): hold it briefly, so
   * that if the connection then ends the session decides what the client hears — its own 08006 and a heal, or the
   * server's FATAL and a close, never both. Any other error goes on at once.
   */
  private judgeHeld(): void {
    const bytes = this.held && this.held.length > 1 ? Buffer.concat(this.held) : (this.held?.[0] as Buffer);
    this.held = [bytes];
    if (bytes.length < 5) return;
    const length = bytes.readInt32BE(1);
    const whole = bytes.length >= 1 + length;
    if (!whole && length <= MAX_HELD_ERROR) return;
    this.heldFatal = whole && fatalFrame(bytes) !== undefined;
    const unsolicited = this.tracker !== undefined && this.tracker.inFlight === 0;
    if (this.heldFatal || unsolicited) {
      this.holdTimer = setTimeout(() => this.releaseHeld(), HOLD_MS);
      return;
    }
    this.releaseHeld();
  }

  private releaseHeld(): void {
    const held = this.held;
    this.held = undefined;
    this.holdTimer = undefined;
    if (this.heldFatal) this.fatalForwarded = true;
    this.heldFatal = false;
    if (!held) return;
    // The error itself goes on as it is; what follows it is relayed as if it had just arrived.
    const first = held[0] as Buffer;
    const end = Math.min(first.length, 1 + first.readInt32BE(1));
    this.forwardToClient(first.subarray(0, end));
    if (end < first.length && !this.ended) this.onUpstreamData(first.subarray(end));
  }

  private forwardToClient(chunk: Buffer): void {
    this.toClient.observe(chunk);
    this.writeToClient(chunk);
  }

  /** Writes relayed bytes the walker (and so session tracking) has already followed. */
  private writeToClient(chunk: Buffer): void {
    this.bytesToClient += chunk.length;
    if (chunk.length >= BATCH_CHUNK && !this.batching) {
      this.batching = true;
      this.client.cork();
      setImmediate(this.flushBatch);
    }
    if (!this.client.write(chunk) && !this.clientFull && !(this.batching && this.client.writableLength < BATCH_LIMIT)) {
      this.clientFull = true;
      this.upstream.pause();
      this.client.onceDrain(this.onClientDrain);
    }
  }

  private finish(closedBy: RelayEnd['closedBy'], reason: string): void {
    if (this.ended) return;
    this.ended = true;
    clearTimeout(this.holdTimer);
    this.idleTimer?.cancel();
    const reusable = closedBy === 'client' && this.reusable();
    // The held message, if any, dies with the connection it announced (the session decides what the client hears).
    const held = this.held ? Buffer.concat(this.held) : undefined;
    this.held = undefined;
    this.client.read(undefined);
    let kept: TLSSocket | undefined;
    if (closedBy === 'upstream' || closedBy === 'released') {
      this.client.pause();
      if (closedBy === 'upstream') this.upstream.destroy();
      else setTimeout(() => this.upstream.destroy(), 5_000).unref();
    } else if (reusable) {
      kept = this.detachUpstream();
    } else {
      endUpstream(this.upstream, this.terminateWithheld);
    }
    this.resolveDone({ closedBy, reason, bytesToClient: this.bytesToClient, bytesToUpstream: this.bytesToUpstream,
      atBoundary: this.toClient.atBoundary, ...(kept ? { kept } : {}), ...(held ? { held } : {}),
      ...(this.fatalForwarded ? { fatalForwarded: true } : {}) });
  }

  /** The client left cleanly and the upstream connection is between statements, with nothing unsent. */
  private reusable(): boolean {
    return this.terminateWithheld && this.tracker !== undefined && this.tracker.idle
      && this.tracker.reusable && this.held === undefined
      && this.toClient.atBoundary && !this.upstream.destroyed && this.upstream.writableLength === 0;
  }

  /** Stops relaying from the upstream connection and leaves it open and paused for its next owner. */
  private detachUpstream(): TLSSocket {
    this.upstream.off('data', this.onUpstreamChunk);
    this.upstream.off('close', this.onUpstreamClose);
    this.upstream.off('error', this.onUpstreamError);
    this.upstream.pause();
    guardErrors(this.upstream);
    return this.upstream;
  }
}

const ignoreFrame = (): void => undefined;
