/**
 * Lets several client sessions share PGlite, which is one PostgreSQL backend (one session) in this process.
 *
 * Each session's messages go to PGlite whole (`execProtocolRawStream`: raw frontend bytes in, raw backend bytes
 * out, streamed). Between two sessions the backend is handed over only at a clean point — no transaction open, no
 * extended-protocol exchange waiting for its Sync, no COPY in progress — so one session's transaction never sees
 * another's statements. A session that holds a transaction open keeps the backend until it ends (the others wait,
 * as they would on a lock). On hand-over the backend switches `SET SESSION AUTHORIZATION` to the next session's
 * user, so `current_user` is the user that logged in.
 *
 * What stays shared (a demo's honest limits): settings changed with SET, SQL-level PREPARE and cursors, temp tables.
 * Protocol-level statement and portal names are kept apart by statement-names.ts.
 */
import type { PGlite } from '@electric-sql/pglite';
import { parameterStatus } from '../protocol/backend-messages.js';
import { message, cstring } from '../protocol/builder.js';
import { BackendCode, FrontendCode } from '../protocol/codes.js';
import { startupMessage } from '../protocol/frontend-messages.js';
import { quoteIdent } from './embedded-database.js';

/** One client session as the backend sees it. */
export interface BackendSession {
  readonly id: number;
  /** The role to run as (`IAM:analyst`). */
  readonly user: string;
  /** The client sent Parse/Bind/Describe/Execute/Close and no Sync yet: its exchange is not finished. */
  awaitingSync: boolean;
}

/** Frontend types that open an extended-query exchange, finished only by Sync ('S'). */
const EXTENDED = new Set([0x50 /* P */, 0x42 /* B */, 0x44 /* D */, 0x45 /* E */, 0x43 /* C */]);
/** 'S' — Sync. */
const SyncCode = 0x53;
const SYNC = message(SyncCode, []);

/** The session ended while it waited for the backend. */
export class SessionEndedError extends Error {
  constructor() {
    super('the session ended while waiting for the database');
    this.name = 'SessionEndedError';
  }
}

interface Waiter {
  readonly session: BackendSession;
  readonly grant: () => void;
  readonly cancel: (err: Error) => void;
}

export class SharedBackend {
  private owner: BackendSession | undefined;
  private readonly waiters: Waiter[] = [];
  /** The session authorization in effect in PGlite; undefined = its bootstrap superuser. */
  private currentUser: string | undefined;
  /** The last backend frame type of the owner's last batch: not ReadyForQuery means "mid-exchange" (COPY). */
  private ownerLastFrame = BackendCode.ReadyForQuery as number;

  private constructor(private readonly db: PGlite, private readonly serverParams: ReadonlyMap<string, string>) {}

  /**
   * Wraps a started PGlite. A StartupMessage sent through the raw protocol makes PGlite answer as a server would,
   * so the ParameterStatus values clients are shown (server_version, encodings, DateStyle…) are its real ones.
   */
  static async start(db: PGlite, database: string): Promise<SharedBackend> {
    const reply = Buffer.from(await db.execProtocolRaw(startupMessage(new Map([['user', 'postgres'], ['database', database]]))));
    const params = new Map<string, string>();
    for (let at = 0; at + 5 <= reply.length; at += 1 + reply.readInt32BE(at + 1)) {
      if (reply[at] !== BackendCode.ParameterStatus) continue;
      const body = reply.subarray(at + 5, at + 1 + reply.readInt32BE(at + 1));
      const nameEnd = body.indexOf(0);
      params.set(body.toString('utf8', 0, nameEnd), body.toString('utf8', nameEnd + 1, body.indexOf(0, nameEnd + 1)));
    }
    return new SharedBackend(db, params);
  }

  /** ParameterStatus frames for a new session of `user` (who is not a superuser, whatever PGlite's default is). */
  parameterFrames(user: string, applicationName: string): Buffer[] {
    const params = new Map(this.serverParams);
    params.set('session_authorization', user);
    params.set('is_superuser', 'off');
    params.set('application_name', applicationName);
    return [...params].map(([name, value]) => parameterStatus(name, value));
  }

  /** Runs one batch of whole frontend frames for `session`, streaming PGlite's answer to `write`. */
  async run(session: BackendSession, batch: Buffer, write: (chunk: Buffer) => void): Promise<void> {
    await this.acquire(session);
    try {
      for (let at = 0; at < batch.length; at += 1 + batch.readInt32BE(at + 1)) {
        const type = batch[at] as number;
        if (EXTENDED.has(type)) session.awaitingSync = true;
        else if (type === FrontendCode.Query || type === SyncCode) session.awaitingSync = false;
      }
      await this.switchUser(session.user);
      const tail = new LastFrame();
      await this.db.execProtocolRawStream(batch, {
        onRawData: (chunk) => {
          tail.observe(chunk);
          // PGlite may reuse the memory behind `chunk`: copy before it leaves this callback.
          write(Buffer.from(chunk));
        },
      });
      if (tail.type !== 0) this.ownerLastFrame = tail.type;
    } finally {
      if (this.isClean(session)) this.handOver();
    }
  }

  /** The session is gone: if it is still waiting for the backend, it stops waiting (its run rejects). */
  withdraw(session: BackendSession): void {
    const queued = this.waiters.findIndex((w) => w.session === session);
    if (queued >= 0) this.waiters.splice(queued, 1)[0]?.cancel(new SessionEndedError());
  }

  /**
   * The session is over and its last run has settled: finish whatever it left open (an exchange without Sync, a
   * COPY, a transaction) so the next session starts clean, then hand over.
   */
  async end(session: BackendSession): Promise<void> {
    this.withdraw(session);
    if (this.owner !== session) return;
    try {
      if (session.awaitingSync) await this.db.execProtocolRaw(SYNC);
      if (this.ownerLastFrame === CopyInResponse) await this.db.execProtocolRaw(copyFail('client went away'));
      if (this.db.isInTransaction()) await this.db.execProtocolRaw(message(FrontendCode.Query, [cstring('ROLLBACK')]));
    } finally {
      session.awaitingSync = false;
      this.ownerLastFrame = BackendCode.ReadyForQuery;
      this.handOver();
    }
  }

  private isClean(session: BackendSession): boolean {
    return !session.awaitingSync && this.ownerLastFrame !== CopyInResponse && !this.db.isInTransaction();
  }

  private acquire(session: BackendSession): Promise<void> {
    if (this.owner === session) return Promise.resolve();
    if (this.owner === undefined) {
      this.owner = session;
      return Promise.resolve();
    }
    return new Promise((grant, cancel) => this.waiters.push({ session, grant, cancel }));
  }

  private handOver(): void {
    const next = this.waiters.shift();
    this.owner = next?.session;
    this.ownerLastFrame = BackendCode.ReadyForQuery;
    next?.grant();
  }

  private async switchUser(user: string): Promise<void> {
    if (this.currentUser === user) return;
    // PGlite's bootstrap user is a superuser, so it may take any session authorization and give it back later.
    await this.db.execProtocolRaw(message(FrontendCode.Query, [cstring(`SET SESSION AUTHORIZATION ${quoteIdent(user)}`)]));
    this.currentUser = user;
  }
}

/** 'G' — CopyInResponse: the backend waits for CopyData from this client. */
const CopyInResponse = 0x47;

/** CopyFail: 'f', the reason as a C string. */
function copyFail(reason: string): Buffer {
  return message(0x66, [cstring(reason)]);
}

/** The type of the last complete backend frame in a stream of chunks (5-byte headers only; bodies skipped). */
class LastFrame {
  type = 0;
  private readonly header = Buffer.alloc(5);
  private fill = 0;
  private remaining = 0;
  private current = 0;

  observe(chunk: Uint8Array): void {
    let i = 0;
    while (i < chunk.length) {
      if (this.remaining > 0) {
        const take = Math.min(this.remaining, chunk.length - i);
        this.remaining -= take;
        i += take;
        if (this.remaining === 0) this.type = this.current;
        continue;
      }
      this.header[this.fill++] = chunk[i++] as number;
      if (this.fill < 5) continue;
      this.fill = 0;
      this.current = this.header[0] as number;
      // The length counts itself but not the type byte.
      this.remaining = this.header.readInt32BE(1) - 4;
      if (this.remaining === 0) this.type = this.current;
    }
  }
}
