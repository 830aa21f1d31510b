/**
 * The test bed: a real PostgreSQL server, started from its binaries in a fresh temporary directory, that looks to
 * the proxy like Redshift's data plane — TCP only with TLS (a certificate from a CA generated at start, naming
 * `localhost` and `127.0.0.1` only), md5 password logins, `VALID UNTIL` honoured, plaintext TCP refused. The
 * superuser reaches it through a unix socket, for set-up only. Used by tests, benchmarks and scripts/.
 */
import { execFile, spawn } from 'node:child_process';
import { watch } from 'node:fs';
import { access, appendFile, chown, constants, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { createCa, issueCert } from './certs.js';
import type { Ca } from './certs.js';

export interface TestBedOptions {
  /** Addresses to listen on; default 127.0.0.1 and 127.0.0.2 (the certificate names only the first). */
  readonly listenAddresses?: readonly string[];
  /** Default 700: load tests hold 500 sessions at once. */
  readonly maxConnections?: number;
  /** More DNS names the server certificate carries besides localhost (a custom domain name). */
  readonly extraDnsNames?: readonly string[];
  /** More postgresql.conf settings, written after ours (so they win); values are written verbatim. */
  readonly settings?: Readonly<Record<string, string | number>>;
}

export interface TestBed {
  readonly host: '127.0.0.1';
  readonly port: number;
  readonly caCertPath: string;
  readonly caPem: string;
  /** The CA that signed the server certificate, so tests can issue more (e.g. for a wrong host name). */
  readonly ca: Ca;
  /** The temporary directory holding everything below; removed by `stop()`. */
  readonly dir: string;
  readonly dataDir: string;
  readonly socketDir: string;
  readonly logPath: string;
  readLog(): Promise<string>;
  /** Resolves with the log once it matches (connection and disconnection lines are written asynchronously). */
  waitForLog(pattern: RegExp, timeoutMs?: number): Promise<string>;
  /** Runs one statement as the superuser over the unix socket, on `dev` unless told otherwise; returns the rows. */
  superuserQuery<R extends pg.QueryResultRow = Record<string, unknown>>(
    sql: string, params?: readonly unknown[], database?: string): Promise<R[]>;
  /** CREATE or ALTER a login role (names like `IAM:analyst` are quoted) that may connect to and create in `dev`. */
  createLoginRole(name: string, password: string, validUntil?: Date): Promise<void>;
  /** `pg_ctl restart` on the same port; `fast` ends sessions with 57P01 as a real restart does. */
  restart(mode?: 'fast' | 'immediate'): Promise<void>;
  /** Stops the server at once and removes its directory; idempotent. */
  stop(): Promise<void>;
  /** Same as `stop()`, for `await using` (attached only where the runtime defines `Symbol.asyncDispose`). */
  [Symbol.asyncDispose](): Promise<void>;
}

/** The OS user the server runs as when we are root: PostgreSQL refuses to run as root. */
interface ServerUser { readonly uid: number; readonly gid: number }

/** SQLSTATE 42710 duplicate_object. */
const DUPLICATE_OBJECT = '42710';
const SUPERUSER = 'postgres';

export async function startTestBed(options: TestBedOptions = {}): Promise<TestBed> {
  const [bin, user] = await Promise.all([findBinDir(), serverUser()]);
  const dir = await mkdtemp(path.join(tmpdir(), 'rap-pg-'));
  const dataDir = path.join(dir, 'data');
  const disarm = startWatchdog(dataDir, dir);
  try {
    return await startIn(dir, dataDir, bin, user, options, disarm);
  } catch (err) {
    // The server may be up (CREATE DATABASE failed) or half up (pg_ctl timed out): stop it before removing its files.
    await run(path.join(bin, 'pg_ctl'), ['-D', dataDir, '-m', 'immediate', '-w', 'stop'], dir, user).catch(() => undefined);
    await rm(dir, { recursive: true, force: true, maxRetries: 3 });
    disarm();
    throw err;
  }
}

async function startIn(dir: string, dataDir: string, bin: string, user: ServerUser | undefined, options: TestBedOptions,
  disarm: () => void): Promise<TestBed> {
  const tlsDir = path.join(dir, 'tls');
  // Inside the 0700 temporary directory, so `local ... trust` admits nobody but us (and root).
  const socketDir = path.join(dir, 'run');
  const logPath = path.join(dir, 'postgres.log');
  await Promise.all([mkdir(tlsDir), mkdir(socketDir)]);
  if (user) await chownAll(user, [dir, socketDir]);
  const runServerTool = (tool: string, args: readonly string[]): Promise<string> => run(path.join(bin, tool), args, dir, user);

  // Certificates are independent of initdb; make them meanwhile.
  const [tls] = await Promise.all([
    (async () => {
      const ca = await createCa(tlsDir);
      const server = await issueCert(ca, tlsDir, 'server', { dns: ['localhost', ...(options.extraDnsNames ?? [])], ips: ['127.0.0.1'] });
      // PostgreSQL refuses a key file not owned by its own user (or root with mode 0640).
      if (user) await chownAll(user, [tlsDir, ...(await readdir(tlsDir)).map((f) => path.join(tlsDir, f))]);
      return { ca, server };
    })(),
    runServerTool('initdb', ['-D', dataDir, '-U', SUPERUSER, '-A', 'trust', '--no-sync', '--encoding=UTF8', '--locale=C']),
  ]);

  await writeFile(path.join(dataDir, 'pg_hba.conf'), [
    'local     all all              trust',
    '# TCP must use TLS and md5, as Redshift\'s data plane does.',
    'hostssl   all all 127.0.0.0/8  md5',
    'hostnossl all all all          reject',
    'host      all all ::1/128      reject',
    '',
  ].join('\n'));
  // Our settings live in their own file so each start attempt can rewrite the port without editing initdb's file.
  await appendFile(path.join(dataDir, 'postgresql.conf'), "\ninclude = 'testbed.conf'\n");
  const settings = (port: number): string => Object.entries({
    port,
    listen_addresses: quote((options.listenAddresses ?? ['127.0.0.1', '127.0.0.2']).join(',')),
    unix_socket_directories: quote(socketDir),
    ssl: 'on',
    ssl_cert_file: quote(tls.server.certPath),
    ssl_key_file: quote(tls.server.keyPath),
    password_encryption: 'md5',
    max_connections: options.maxConnections ?? 700,
    // Small: 700 connections' worth of lock tables and process slots is what needs memory, not the cache.
    shared_buffers: '32MB',
    log_destination: quote('stderr'),
    logging_collector: 'off',
    log_connections: 'on',
    log_disconnections: 'on',
    log_line_prefix: quote('%m [%p] %q%u@%d '),
    // A throwaway server: durability only costs time.
    fsync: 'off',
    synchronous_commit: 'off',
    full_page_writes: 'off',
    ...options.settings,
  }).map(([k, v]) => `${k} = ${v}\n`).join('');

  // `-l` always: without it the server would inherit our stdout and pg_ctl's output pipe would never close.
  const pgCtl = async (...args: string[]): Promise<void> => {
    const logBefore = await readText(logPath);
    try {
      await runServerTool('pg_ctl', ['-D', dataDir, '-l', logPath, '-w', '-t', '60', ...args]);
    } catch (err) {
      const log = (await readText(logPath)).slice(logBefore.length);
      throw new Error(`the test bed's server did not ${args[0] ?? 'start'}: ${(err as Error).message}\n--- server log ---\n${tail(log)}`,
        { cause: err });
    }
  };

  // Port 0 cannot be given to PostgreSQL, so borrow a free port from the OS; someone may take it before the server
  // binds it (or it may be taken on 127.0.0.2 only), hence the retries.
  let port = 0;
  for (let attempt = 1; ; attempt++) {
    port = await freePort();
    await writeFile(path.join(dataDir, 'testbed.conf'), settings(port));
    try {
      await pgCtl('start');
      break;
    } catch (err) {
      if (attempt >= 5 || !/could not bind|Address already in use|could not create any TCP\/IP sockets/.test(String(err))) throw err;
    }
  }

  const pools = new Map<string, pg.Pool>();
  const poolFor = (database: string): pg.Pool => {
    let pool = pools.get(database);
    if (!pool) {
      pool = new pg.Pool({ host: socketDir, port, user: SUPERUSER, database, max: 4, allowExitOnIdle: true });
      // An idle connection dies when the server restarts or stops; the pool drops it, nothing else to do.
      pool.on('error', () => undefined);
      pools.set(database, pool);
    }
    return pool;
  };
  const endPools = async (): Promise<void> => {
    const all = [...pools.values()];
    pools.clear();
    await Promise.all(all.map((p) => p.end().catch(() => undefined)));
  };
  const superuserQuery = async <R extends pg.QueryResultRow>(sql: string, params: readonly unknown[] = [],
    database = 'dev'): Promise<R[]> => (await poolFor(database).query<R>(sql, [...params])).rows;

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      await endPools();
      await runServerTool('pg_ctl', ['-D', dataDir, '-m', 'immediate', '-w', 'stop']).catch(() => undefined);
      await rm(dir, { recursive: true, force: true, maxRetries: 3 });
      disarm();
    })();
    return stopping;
  };

  const bed: Omit<TestBed, typeof Symbol.asyncDispose> = {
    host: '127.0.0.1', port, caCertPath: tls.ca.certPath, caPem: tls.ca.certPem, ca: tls.ca,
    dir, dataDir, socketDir, logPath,
    readLog: () => readFile(logPath, 'utf8'),
    waitForLog: (pattern, timeoutMs = 5_000) => waitForFile(logPath, pattern, timeoutMs),
    superuserQuery,
    async createLoginRole(name, password, validUntil) {
      const role = pg.escapeIdentifier(name);
      // 'infinity' rather than nothing, so ALTER also clears an earlier expiry.
      const attrs = `LOGIN PASSWORD ${literal(password)} VALID UNTIL ${literal(validUntil?.toISOString() ?? 'infinity')}`;
      try {
        await superuserQuery(`CREATE ROLE ${role} WITH ${attrs}`);
      } catch (err) {
        if ((err as { code?: unknown }).code !== DUPLICATE_OBJECT) throw err;
        await superuserQuery(`ALTER ROLE ${role} WITH ${attrs}`);
      }
      await superuserQuery(`GRANT CONNECT ON DATABASE dev TO ${role}`);
      // PostgreSQL 15 no longer lets PUBLIC create in `public`; Redshift users can.
      await superuserQuery(`GRANT USAGE, CREATE ON SCHEMA public TO ${role}`);
    },
    async restart(mode = 'fast') {
      await endPools();
      await pgCtl('restart', '-m', mode);
    },
    stop,
  };
  // Node before 20.4 has no Symbol.asyncDispose; `await using` cannot run there anyway, so the type may promise it.
  if (typeof Symbol.asyncDispose === 'symbol') Object.assign(bed, { [Symbol.asyncDispose]: stop });

  try {
    await superuserQuery('CREATE DATABASE dev', [], 'postgres');
  } finally {
    await endPools();
  }
  return bed as TestBed;
}

/** node-postgres settings for a direct, verified-TLS connection to the bed: the baseline the proxy is compared to. */
export function directTlsConnectionConfig(bed: TestBed, user: string, password: string, database = 'dev'): pg.ClientConfig {
  return {
    host: bed.host, port: bed.port, user, password, database,
    // The host is an IP literal; `servername` makes Node check the certificate against `localhost` instead.
    ssl: { ca: bed.caPem, servername: 'localhost', rejectUnauthorized: true },
  };
}

/** A port the OS just considered free on `host`. */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, host, () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/**
 * Stops the server and removes its directory when our end of the watchdog's stdin closes, which the kernel does
 * however this process ends: a crash, SIGKILL, a test runner tearing its workers down, Ctrl-C. The postmaster
 * would outlive all of those (pg_ctl starts it in its own session), and an 'exit' handler runs in none of them.
 * The watchdog is detached too, so Ctrl-C does not kill it first. Arguments arrive as $1 and $2: nothing is
 * interpolated into the script.
 */
const WATCHDOG_SCRIPT = `read -r _
pid=$(head -n 1 "$1/postmaster.pid" 2>/dev/null)
if [ -n "$pid" ] && kill -QUIT "$pid" 2>/dev/null; then
  i=0; while kill -0 "$pid" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
fi
rm -rf "$2"`;

/** Starts the watchdog; the returned function dismisses it once stop() has cleaned up itself. */
function startWatchdog(dataDir: string, dir: string): () => void {
  const child = spawn('sh', ['-c', WATCHDOG_SCRIPT, 'rap-pg-watchdog', dataDir, dir],
    { stdio: ['pipe', 'ignore', 'ignore'], detached: true });
  child.on('error', () => undefined);
  // Neither the process nor the pipe may keep a test runner's event loop alive.
  child.unref();
  if (child.stdin instanceof net.Socket) child.stdin.unref();
  return () => { child.kill('SIGKILL'); };
}

/** `pg_config --bindir` when it has the server binaries (it may come from libpq-dev alone), else Debian's newest. */
async function findBinDir(): Promise<string> {
  const candidates: string[] = [];
  const fromPgConfig = await execText('pg_config', ['--bindir']).catch(() => undefined);
  if (fromPgConfig) candidates.push(fromPgConfig.trim());
  const versions = await readdir('/usr/lib/postgresql').catch(() => []);
  for (const v of versions.filter((d) => /^\d+$/.test(d)).sort((a, b) => Number(b) - Number(a))) {
    candidates.push(path.join('/usr/lib/postgresql', v, 'bin'));
  }
  for (const dir of candidates) {
    const found = await Promise.all(['initdb', 'pg_ctl', 'postgres'].map((tool) =>
      access(path.join(dir, tool), constants.X_OK).then(() => true, () => false)));
    if (found.every(Boolean)) return dir;
  }
  throw new Error(`PostgreSQL server binaries (initdb, pg_ctl, postgres) not found in ${candidates.join(', ') || 'pg_config --bindir or /usr/lib/postgresql/*/bin'}; ` +
    'install them with `apt-get install postgresql`');
}

async function serverUser(): Promise<ServerUser | undefined> {
  if (process.getuid?.() !== 0) return undefined;
  try {
    const [uid, gid] = await Promise.all([execText('id', ['-u', SUPERUSER]), execText('id', ['-g', SUPERUSER])]);
    return { uid: Number(uid.trim()), gid: Number(gid.trim()) };
  } catch (err) {
    throw new Error('running as root, but there is no `postgres` OS user to run the server as (apt-get install postgresql creates it)', { cause: err });
  }
}

/**
 * Runs a server binary, as the server's OS user when we are root. Node's `uid`/`gid` spawn options switch user
 * and drop root's supplementary groups with no shell or `runuser` in between, so arguments pass through untouched.
 */
function run(file: string, args: readonly string[], cwd: string, user: ServerUser | undefined): Promise<string> {
  const env: NodeJS.ProcessEnv = { ...process.env, LC_ALL: 'C', LANG: 'C' };
  // PGDATA, PGPORT, PGHOST and friends from the developer's shell must not steer our tools.
  for (const key of Object.keys(env)) if (key.startsWith('PG')) delete env[key];
  return execText(file, args, { cwd, env, ...(user ? { uid: user.uid, gid: user.gid } : {}) });
}

function execText(file: string, args: readonly string[], options: { cwd?: string; env?: NodeJS.ProcessEnv; uid?: number; gid?: number } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { ...options, timeout: 120_000, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${path.basename(file)} failed: ${String(stderr).trim() || err.message}`, { cause: err }));
      else resolve(String(stdout));
    });
  });
}

async function chownAll(user: ServerUser, paths: readonly string[]): Promise<void> {
  await Promise.all(paths.map((p) => chown(p, user.uid, user.gid)));
}

function waitForFile(file: string, pattern: RegExp, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let done = false;
    const check = (): void => {
      void readFile(file, 'utf8').then((text) => {
        if (!done && text.search(pattern) >= 0) finish(() => resolve(text));
      }, () => undefined);
    };
    // Watch first, then read, so a line written in between is not missed.
    const watcher = watch(file, check);
    const timer = setTimeout(() => {
      void readText(file).then((text) => finish(() => reject(new Error(
        `server log did not match ${String(pattern)} within ${timeoutMs} ms; it ends:\n${tail(text, 20)}`))));
    }, timeoutMs);
    const finish = (settle: () => void): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      watcher.close();
      settle();
    };
    check();
  });
}

function readText(file: string): Promise<string> {
  return readFile(file, 'utf8').catch(() => '');
}

function tail(text: string, lines = 30): string {
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}

/** A postgresql.conf string value. */
function quote(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

/** An SQL string literal (standard_conforming_strings is on, so only quotes need doubling). */
function literal(value: string): string {
  if (value.includes('\0')) throw new Error('SQL literals cannot contain NUL');
  return `'${value.replace(/'/g, "''")}'`;
}
