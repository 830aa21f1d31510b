/**
 * Runs one conformance case on a raw connection and reduces the answers to what the comparison reads: message
 * types in order, severity and SQLSTATE of errors and notices, the transaction status of ReadyForQuery, and
 * whether the connection closed. Nothing here knows the proxy's code.
 */
import net from 'node:net';
import { scanBackend, errorFields } from '../security/wire.js';

/** How a step knows its answer is complete. */
export type Until =
  | 'ready' // a ReadyForQuery (or the close)
  | 'close' // the connection closes (or 5 s pass)
  | 'byte' // a single-byte answer (SSLRequest / GSSENCRequest)
  | 'copy-in' // CopyInResponse (or the close)
  | 'error'; // an ErrorResponse (or the close)

export interface Step {
  readonly send?: Buffer;
  /** Terminate this connection's backend: at once before sending ('idle'), or once the step's bytes make it sleep. */
  readonly kill?: 'sleeping' | 'idle';
  readonly until: Until;
  /** With 'ready': how many ReadyForQuery messages complete the answer. */
  readonly ready?: number;
}

export interface StepResult {
  readonly messages: readonly string[];
  readonly closed: boolean;
}

export interface Killer {
  /** Waits until `pid` sleeps (or, for 'idle', not at all), terminates it, and waits until it is gone. */
  kill(pid: number, when: 'sleeping' | 'idle'): Promise<void>;
  /** After an idle backend was terminated: resolves once the path has dealt with it (the proxy healed). */
  settled?(): Promise<void>;
}

/** One message as the comparison sees it. */
export function normalize(type: string, body: Buffer): string {
  if (type === 'E' || type === 'N') {
    const f = errorFields(body);
    return `${type}:${f.V ?? f.S}:${f.C}`;
  }
  if (type === 'Z') return `Z:${String.fromCharCode(body[0] as number)}`;
  return type;
}

export async function runSteps(connect: () => net.Socket, steps: readonly Step[], killer: Killer): Promise<StepResult[]> {
  const socket = connect();
  const chunks: Buffer[] = [];
  let closed = false;
  const waiters = new Set<() => void>();
  const wake = (): void => {
    for (const w of [...waiters]) w();
  };
  socket.on('data', (c: Buffer) => {
    chunks.push(c);
    wake();
  });
  socket.on('error', () => undefined);
  socket.on('close', () => {
    closed = true;
    wake();
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  const data = (): Buffer => Buffer.concat(chunks);
  const results: StepResult[] = [];
  let pid: number | undefined;
  for (const step of steps) {
    const from = data().length;
    if (step.kill && pid === undefined) throw new Error('a kill step needs an earlier "select pg_backend_pid()" step');
    // An idle backend is terminated before the step's bytes go out; a sleeping one once they made it sleep.
    if (step.kill === 'idle') {
      await killer.kill(pid as number, 'idle');
      await killer.settled?.();
    }
    if (step.send && !closed) socket.write(step.send);
    if (step.kill === 'sleeping') await killer.kill(pid as number, 'sleeping');
    const view = (): Buffer => data().subarray(from);
    const done = (): boolean => {
      if (closed) return true;
      const v = view();
      if (step.until === 'byte') return v.length >= 1;
      if (step.until === 'close') return false;
      const types = scanBackend(v).messages.map((m) => m.type);
      if (step.until === 'ready') return types.filter((t) => t === 'Z').length >= (step.ready ?? 1);
      if (step.until === 'copy-in') return types.includes('G');
      return types.includes('E');
    };
    await new Promise<void>((resolve) => {
      const timer = setTimeout(finish, step.until === 'close' ? 5_000 : 20_000);
      function finish(): void {
        clearTimeout(timer);
        waiters.delete(check);
        resolve();
      }
      function check(): void {
        if (done()) finish();
      }
      waiters.add(check);
      check();
    });
    const v = view();
    if (step.until === 'byte' && v.length === 1) {
      results.push({ messages: [`answer:${String.fromCharCode(v[0] as number)}`], closed });
      continue;
    }
    const messages = scanBackend(v).messages;
    const row = messages.find((m) => m.type === 'D');
    if (pid === undefined && row && step.send?.includes(Buffer.from('pg_backend_pid'))) {
      pid = Number(row.body.toString('utf8', 6, 6 + row.body.readInt32BE(2)));
    }
    results.push({ messages: messages.map((m) => normalize(m.type, m.body)), closed });
  }
  socket.destroy();
  return results;
}
