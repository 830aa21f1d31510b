/**
 * A loopback TCP forwarder that puts a network distance between its clients and a target: every chunk read in
 * either direction is written on at its arrival time + oneWayMs (not after the chunks before it have been delayed:
 * the delay is latency, not a bandwidth cap), in arrival order. A round trip through it costs 2 × oneWayMs more.
 * A half close (end) is delayed like data. When more than HIGH_WATER bytes wait in one direction, or the receiving
 * socket's buffer is full, reading pauses — the way a TCP window stops a sender — so memory stays bounded.
 * Used by the network-distance bench where netem (`tc qdisc … netem delay`) is not available.
 */
import net from 'node:net';

const HIGH_WATER = 8 * 1024 * 1024;

export interface DelayForwarderOptions {
  readonly targetHost: string;
  readonly targetPort: number;
  /** Added delay per direction, ms (half the added round trip). */
  readonly oneWayMs: number;
  /** Where to listen; default 127.0.0.1. */
  readonly host?: string;
}

export interface DelayForwarder {
  readonly port: number;
  /** Connections accepted so far. */
  readonly connections: number;
  close(): Promise<void>;
}

interface Pending {
  readonly due: number;
  /** A chunk, or null for the sender's end. */
  readonly chunk: Buffer | null;
}

/** One direction: reads `from`, writes `to` each chunk at its due time. */
function delayDirection(from: net.Socket, to: net.Socket, oneWayMs: number): void {
  const queue: Pending[] = [];
  let head = 0;
  let queuedBytes = 0;
  let timer: NodeJS.Timeout | undefined;
  let waitingForDrain = false;

  const pump = (): void => {
    timer = undefined;
    if (waitingForDrain || to.destroyed) return;
    const now = performance.now();
    while (head < queue.length) {
      const next = queue[head] as Pending;
      if (next.due > now) {
        timer = setTimeout(pump, next.due - now);
        break;
      }
      head++;
      if (next.chunk === null) {
        to.end();
        continue;
      }
      queuedBytes -= next.chunk.length;
      if (!to.write(next.chunk)) {
        waitingForDrain = true;
        to.once('drain', () => {
          waitingForDrain = false;
          pump();
        });
        break;
      }
    }
    if (head === queue.length) {
      queue.length = 0;
      head = 0;
    } else if (head > 1024) {
      queue.splice(0, head);
      head = 0;
    }
    if (from.isPaused() && queuedBytes < HIGH_WATER / 2 && !waitingForDrain) from.resume();
  };
  const enqueue = (chunk: Buffer | null): void => {
    queue.push({ due: performance.now() + oneWayMs, chunk });
    if (chunk) queuedBytes += chunk.length;
    if (queuedBytes > HIGH_WATER || waitingForDrain) from.pause();
    if (timer === undefined && !waitingForDrain && queue.length - head === 1) {
      timer = setTimeout(pump, oneWayMs);
    }
  };
  from.on('data', (chunk: Buffer) => enqueue(chunk));
  from.on('end', () => enqueue(null));
  to.once('close', () => {
    if (timer) clearTimeout(timer);
    queue.length = 0;
  });
}

export async function startDelayForwarder(o: DelayForwarderOptions): Promise<DelayForwarder> {
  const open = new Set<net.Socket>();
  let connections = 0;
  const server = net.createServer({ allowHalfOpen: true }, (client) => {
    connections++;
    const upstream = net.connect({ host: o.targetHost, port: o.targetPort, allowHalfOpen: true });
    for (const s of [client, upstream]) {
      s.setNoDelay(true);
      open.add(s);
    }
    // A reset on either side ends both at once (no delay: the bench never measures a teardown); an orderly end
    // travels with the data, and the pair goes when both directions have ended.
    const drop = (): void => {
      client.destroy();
      upstream.destroy();
      open.delete(client);
      open.delete(upstream);
    };
    let ended = 0;
    const halfClosed = (): void => {
      if (++ended === 2) drop();
    };
    for (const s of [client, upstream]) {
      s.on('error', drop);
      s.once('close', (hadError) => {
        if (hadError) drop();
      });
    }
    client.once('finish', halfClosed);
    upstream.once('finish', halfClosed);
    delayDirection(client, upstream, o.oneWayMs);
    delayDirection(upstream, client, o.oneWayMs);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, o.host ?? '127.0.0.1', () => resolve());
  });
  return {
    port: (server.address() as net.AddressInfo).port,
    get connections() {
      return connections;
    },
    close: async () => {
      for (const s of open) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
