/**
 * After login: bytes move both ways as they arrive, with backpressure (a slow reader pauses the other side rather
 * than letting the proxy buffer an unbounded result). Server-to-client frames are observed only at their
 * headers, to know where a message ends. The relay ends once, and reports which side closed it and why.
 */
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { errorResponse } from '../protocol/backend-messages.js';
import { SqlState } from '../protocol/sqlstate.js';
import { FrameBoundary } from './frame-boundary.js';

export interface RelayEnd {
  readonly closedBy: 'client' | 'upstream' | 'proxy';
  readonly reason: string;
  readonly bytesToClient: number;
  readonly bytesToUpstream: number;
}

const UPSTREAM_LOST = errorResponse({
  severity: 'FATAL',
  code: SqlState.ConnectionFailure,
  message: 'the connection to Redshift was lost',
  detail: 'Any transaction in progress was rolled back by the server.',
  hint: 'Reconnect; if this repeats, check the cluster\'s status and the network path to it.',
});

export class Relay {
  readonly done: Promise<RelayEnd>;
  readonly toClient = new FrameBoundary();
  private bytesToClient = 0;
  private bytesToUpstream = 0;
  private ended = false;
  private resolveDone!: (end: RelayEnd) => void;

  /** @param pending bytes that arrived on either side during login, not yet delivered. */
  constructor(private readonly client: Socket, private readonly upstream: TLSSocket,
    pending: { toUpstream: Buffer; toClient: Buffer }) {
    this.done = new Promise((resolve) => {
      this.resolveDone = resolve;
    });
    if (pending.toUpstream.length > 0) {
      this.bytesToUpstream += pending.toUpstream.length;
      upstream.write(pending.toUpstream);
    }
    if (pending.toClient.length > 0) {
      this.toClient.observe(pending.toClient);
      this.bytesToClient += pending.toClient.length;
      client.write(pending.toClient);
    }
    this.pipe(upstream, client, (chunk) => {
      this.toClient.observe(chunk);
      this.bytesToClient += chunk.length;
    });
    this.pipe(client, upstream, (chunk) => {
      this.bytesToUpstream += chunk.length;
    });
    client.once('end', () => this.finish('client', 'client disconnected'));
    client.once('close', () => this.finish('client', 'client disconnected'));
    client.on('error', (err) => this.finish('client', `client socket error: ${err.message}`));
    upstream.once('close', () => this.finish('upstream', 'Redshift closed the connection'));
    upstream.on('error', (err) => this.finish('upstream', `upstream socket error: ${err.message}`));
    client.resume();
    upstream.resume();
  }

  /** Ends the session from the proxy's side, telling the client why when a message boundary allows it. */
  close(reason: string, message?: Buffer): void {
    if (this.ended) return;
    if (message && this.toClient.atBoundary) this.client.end(message);
    else this.client.destroy();
    this.finish('proxy', reason);
  }

  private pipe(from: Socket, to: Socket, observe: (chunk: Buffer) => void): void {
    from.on('data', (chunk: Buffer) => {
      observe(chunk);
      if (!to.write(chunk)) {
        from.pause();
        to.once('drain', () => from.resume());
      }
    });
  }

  private finish(closedBy: RelayEnd['closedBy'], reason: string): void {
    if (this.ended) return;
    this.ended = true;
    if (closedBy === 'upstream' && !this.client.destroyed) {
      // Say why instead of a bare reset — but only between messages, or the client would misparse.
      if (this.toClient.atBoundary) this.client.end(UPSTREAM_LOST);
      else this.client.destroy();
    }
    if (closedBy !== 'upstream') {
      this.upstream.end();
      this.upstream.once('finish', () => this.upstream.destroy());
      setTimeout(() => this.upstream.destroy(), 5_000).unref();
    }
    this.resolveDone({ closedBy, reason, bytesToClient: this.bytesToClient, bytesToUpstream: this.bytesToUpstream });
  }
}
