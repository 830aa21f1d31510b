/**
 * `--warm N`: pre-opened, logged-in TLS connections to Redshift per identity and database, handed to new clients so
 * that connecting through the proxy skips the TCP, TLS and login round trips. The client's own startup parameters
 * are applied to the spare with SET, and the ParameterStatus values it would have seen at a fresh login are
 * reported. Spares are closed when their credential expires or after sitting unused too long.
 */
import type { Logger } from '../ops/logger.js';
import { BackendCode } from '../protocol/codes.js';
import { cstring, message } from '../protocol/builder.js';
import { decodeErrorFields } from '../protocol/error-fields.js';
import { FrameReader } from '../protocol/frame-reader.js';
import { openUpstream } from './open-upstream.js';
import type { UpstreamSession } from './open-upstream.js';
import type { Target } from './target.js';

/** Startup parameters that are not run-time settings. */
const NOT_SETTINGS = new Set(['user', 'database', 'replication', 'options']);
const MAX_IDLE_MS = 5 * 60_000;

interface Spare {
  readonly session: UpstreamSession;
  readonly expiresAt: number;
}

export class WarmPool {
  private readonly spares = new Map<string, Spare[]>();
  private readonly filling = new Map<string, number>();
  private closed = false;

  constructor(private readonly target: Target, private readonly size: number, private readonly log: Logger) {}

  /** A logged-in upstream for this client: a spare with its parameters applied, else a fresh connection. */
  async acquire(clientParams: ReadonlyMap<string, string>, signal: AbortSignal): Promise<UpstreamSession> {
    const user = clientParams.get('user') as string;
    this.target.checkUser(user);
    const database = this.target.databaseFor(clientParams.get('database'));
    const key = this.target.source.keyFor(this.target.requestFor(user, database));
    const base = new Map([['user', user], ['database', database]]);
    const spare = this.take(key);
    this.replenish(key, base);
    if (spare) {
      try {
        return await applyParams(spare.session, clientParams);
      } catch (err) {
        spare.session.socket.destroy();
        this.log.debug({ err: err instanceof Error ? err.message : String(err) }, 'warm spare could not take the client\'s settings');
      }
    }
    return openUpstream(this.target, clientParams, signal);
  }

  close(): void {
    this.closed = true;
    for (const list of this.spares.values()) for (const s of list) s.session.socket.destroy();
    this.spares.clear();
  }

  private take(key: string): Spare | undefined {
    const list = this.spares.get(key);
    while (list && list.length > 0) {
      const s = list.shift() as Spare;
      if (!s.session.socket.destroyed && s.expiresAt > Date.now()) return s;
      s.session.socket.destroy();
    }
    return undefined;
  }

  /** Opens spares in the background until `size` are waiting (one at a time per key, to spare AWS and Redshift). */
  private replenish(key: string, base: Map<string, string>): void {
    if (this.closed || (this.filling.get(key) ?? 0) > 0) return;
    const list = this.spares.get(key) ?? [];
    this.spares.set(key, list);
    if (list.length >= this.size) return;
    this.filling.set(key, 1);
    const controller = new AbortController();
    openUpstream(this.target, base, controller.signal).then((session) => {
      this.filling.delete(key);
      if (this.closed) {
        session.socket.destroy();
        return;
      }
      const expiresAt = Math.min(session.credentialExpiresAt.getTime(), Date.now() + MAX_IDLE_MS);
      const spare: Spare = { session, expiresAt };
      session.socket.once('close', () => {
        const i = list.indexOf(spare);
        if (i >= 0) list.splice(i, 1);
      });
      session.socket.on('error', () => session.socket.destroy());
      const timer = setTimeout(() => session.socket.destroy(), Math.max(0, expiresAt - Date.now()));
      timer.unref();
      session.socket.once('close', () => clearTimeout(timer));
      list.push(spare);
      this.replenish(key, base);
    }, (err: unknown) => {
      this.filling.delete(key);
      this.log.debug({ err: err instanceof Error ? err.message : String(err) }, 'could not open a warm spare');
    });
  }
}

/** `-c name=value` and `--name=value` settings from a startup `options` string. */
export function optionSettings(options: string): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  const words = options.match(/(?:\\.|\S)+/g) ?? [];
  for (let i = 0; i < words.length; i++) {
    const w = (words[i] as string).replace(/\\(.)/g, '$1');
    const setting = w === '-c' ? (words[++i] ?? '').replace(/\\(.)/g, '$1') : w.startsWith('--') ? w.slice(2) : w.startsWith('-c') ? w.slice(2) : '';
    const eq = setting.indexOf('=');
    if (eq > 0) out.push([setting.slice(0, eq).replace(/-/g, '_'), setting.slice(eq + 1)]);
  }
  return out;
}

/** Applies the client's startup settings to a spare with one simple query; resolves with the session to hand over. */
function applyParams(session: UpstreamSession, clientParams: ReadonlyMap<string, string>): Promise<UpstreamSession> {
  const settings: Array<[string, string]> = [];
  for (const [k, v] of clientParams) if (!NOT_SETTINGS.has(k)) settings.push([k, v]);
  settings.push(...optionSettings(clientParams.get('options') ?? ''));
  const statusByName = new Map<string, Buffer>();
  for (const f of session.statusFrames) {
    if (f[0] === BackendCode.ParameterStatus) statusByName.set(f.toString('utf8', 5, f.indexOf(0, 5)), f);
  }
  if (settings.length === 0) return Promise.resolve(session);
  const sql = settings.map(([k, v]) => `SET ${quoteIdent(k)} = ${quoteLiteral(v)}`).join('; ');
  const socket = session.socket;
  return new Promise((resolve, reject) => {
    const reader = new FrameReader(1 << 20);
    let failure: string | undefined;
    const finish = (err?: Error): void => {
      socket.off('data', onData);
      socket.off('close', onClose);
      socket.pause();
      if (err) reject(err);
      else {
        resolve({ ...session, statusFrames: [...statusByName.values()], leftover: reader.drain() });
      }
    };
    const onClose = (): void => finish(new Error('the warm connection closed'));
    const onData = (chunk: Buffer): void => {
      reader.push(chunk);
      for (let f = reader.nextTyped(); f; f = reader.nextTyped()) {
        if (f.type === BackendCode.ParameterStatus) statusByName.set(f.body.toString('utf8', 0, f.body.indexOf(0)), Buffer.from(f.raw));
        else if (f.type === BackendCode.ErrorResponse) failure ??= decodeErrorFields(f.body).message;
        else if (f.type === BackendCode.ReadyForQuery) {
          finish(failure ? new Error(failure) : undefined);
          return;
        }
      }
    };
    socket.on('data', onData);
    socket.once('close', onClose);
    socket.write(message(0x51, [cstring(sql)]));
    socket.resume();
  });
}

function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

function quoteLiteral(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}
