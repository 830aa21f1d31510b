/**
 * How many upstream connections of each warm-pool key clients hold now, and the most they held at once lately: what
 * the key's spares grow toward. A dashboard that opens 20 connections at once leaves 20 logged-in connections behind
 * when it closes them; the pool keeps them (within --warm-total and the upstream budget) because 20 were wanted
 * together, so the dashboard's next refresh finds 20 spares instead of --warm. A peak not reached again within the
 * window (--warm-idle, the time a spare may sit unused) is forgotten, and the spares it kept close as they idle out.
 *
 * A hold ends when the pool is given the connection back or its socket closes, whichever comes first, so a session
 * that loses its upstream (healing, a crash) never leaves a count behind.
 */
import type { Socket } from 'node:net';
import type { Clock } from '../ops/clock.js';

interface KeyDemand {
  inUse: number;
  peak: number;
  peakAt: number;
}

/** One client's claim on a connection of a key: bound to the socket once its login is done. */
export interface Hold {
  bind(socket: Socket): void;
  release(): void;
}

export class WarmDemand {
  private readonly keys = new Map<string, KeyDemand>();
  private readonly bySocket = new WeakMap<Socket, Hold>();

  /** `onIdle(key)` runs when the last hold of a key ends: the pool may then forget the key. */
  constructor(private readonly clock: Clock, private readonly windowMs: number,
    private readonly onIdle: (key: string) => void) {}

  /** A client takes a connection of `key` now: a spare, or a login of its own still on its way. */
  hold(key: string): Hold {
    const now = this.clock.now();
    const d = this.keys.get(key) ?? { inUse: 0, peak: 0, peakAt: now };
    this.keys.set(key, d);
    d.inUse++;
    if (d.inUse >= this.recentPeak(d, now)) {
      d.peak = d.inUse;
      d.peakAt = now;
    }
    let bound: Socket | undefined;
    let released = false;
    const onClose = (): void => hold.release();
    const hold: Hold = {
      bind: (socket) => {
        if (released) return;
        bound = socket;
        this.bySocket.set(socket, hold);
        socket.once('close', onClose);
      },
      release: () => {
        if (released) return;
        released = true;
        if (bound) {
          bound.off('close', onClose);
          this.bySocket.delete(bound);
        }
        if (--d.inUse === 0) this.onIdle(key);
      },
    };
    return hold;
  }

  /** The connection on this socket comes back to the pool (or is closed by it): its client no longer holds it. */
  release(socket: Socket): void {
    this.bySocket.get(socket)?.release();
  }

  inUse(key: string): number {
    return this.keys.get(key)?.inUse ?? 0;
  }

  /** The most connections of `key` held at once within the window (at least those held now). */
  peak(key: string): number {
    const d = this.keys.get(key);
    return d ? this.recentPeak(d, this.clock.now()) : 0;
  }

  /** Drops what is known of a key nobody holds: called when the pool forgets the key. */
  forget(key: string): void {
    if (this.inUse(key) === 0) this.keys.delete(key);
  }

  private recentPeak(d: KeyDemand, now: number): number {
    return now - d.peakAt > this.windowMs ? d.inUse : d.peak;
  }
}
