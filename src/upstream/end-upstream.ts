/**
 * Letting go of an upstream connection: a guard so that one between owners never throws on error, and the goodbye.
 */
import type { TLSSocket } from 'node:tls';
import { TERMINATE } from '../protocol/frontend-messages.js';

function destroyOnError(this: TLSSocket): void {
  this.destroy();
}

/** An upstream connection between owners still has an error listener (one, however often it changes hands). */
export function guardErrors(socket: TLSSocket): void {
  if (!socket.listeners('error').includes(destroyOnError)) socket.on('error', destroyOnError);
}

/**
 * Ends an upstream connection from the proxy's side: Terminate first when the server should log a normal goodbye,
 * then the socket is destroyed once the bytes are out, or after 5 s at most.
 */
export function endUpstream(socket: TLSSocket, goodbye: boolean): void {
  if (socket.destroyed) return;
  if (goodbye) socket.end(TERMINATE);
  else socket.end();
  socket.once('finish', () => socket.destroy());
  setTimeout(() => socket.destroy(), 5_000).unref();
}
