/**
 * The test bed: a real PostgreSQL server, started from its binaries in a temporary directory, that looks to the
 * proxy like Redshift's data plane — TCP only with TLS (a certificate from a CA generated at start, naming
 * localhost and 127.0.0.1), md5 password logins, `VALID UNTIL` honoured, plaintext TCP rejected. The superuser
 * reaches it through a unix socket for set-up only. Usable from tests and from scripts/.
 */
import { execFile } from 'node:child_process';
import { chmod, chown, mkdtemp, readdir, readFile, rm, writeFile, appendFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { createCa, issueCert } from './certs.js';
import type { Ca } from './certs.js';

const run = promisify(execFile);

export interface TestBedOptions {
  /** Addresses to listen on (default 127.0.0.1 and 127.0.0.2: the certificate names only the first). */
  readonly listenAddresses?: readonly string[];
  readonly maxConnections?: number;
}

export interface TestBed {
  readonly host: '127.0.0.1';
  readonly port: number;
  readonly caCertPath: string;
  readonly caPem: string;
  readonly ca: Ca;
  readonly dir: string;
  readonly dataDir: string;
  readonly socketDir: string;
  readonly logPath: string;
  readLog(): Promise<string>;
  /** Runs SQL as the superuser on database `dev` (or another) over the unix socket. */
  superuserQuery(sql: string, params?: unknown[], database?: string): Promise<Array<Record<string, unknown>>>;
  /** CREATE or ALTER a login role with a password (and expiry), able to work in `dev`. */
  createLoginRole(name: string, password: string, validUntil?: Date): Promise<void>;
  restart(): Promise<void>;
  stop(): Promise<void>;
}

async function findBinDir(): Promise<string> {
  try {
    const { stdout } = await run('pg_config', ['--bindir']);
    const dir = stdout.trim();
    if (existsSync(path.join(dir, 'initdb')) && existsSync(path.join(dir, 'postgres'))) return dir;
  } catch {
    // pg_config may be absent (it ships in libpq-dev); fall back to Debian's layout.
  }
  const base = '/usr/lib/postgresql';
  const versions = existsSync(base) ? (await readdir(base)).filter((v) => /^\d+$/.test(v)).sort((a, b) => Number(b) - Number(a)) : [];
  for (const v of versions) {
    const dir = path.join(base, v, 'bin');
    if (existsSync(path.join(dir, 'initdb')) && existsSync(path.join(dir, 'pg_ctl'))) return dir;
  }
  throw new Error('PostgreSQL server binaries not found: apt-get install postgresql');
}

/** As root, the server must run as an unprivileged OS user; Debian's package creates `postgres`. */
async function serverUser(): Promise<{ uid: number; gid: number; wrap: (cmd: string, args: string[]) => [string, string[]] } | undefined> {
  if (process.getuid?.() !== 0) return undefined;
  const uid = Number((await run('id', ['-u', 'postgres'])).stdout.trim());
  const gid = Number((await run('id', ['-g', 'postgres'])).stdout.trim());
  return { uid, gid, wrap: (cmd, args) => ['runuser', ['-u', 'postgres', '--', cmd, ...args]] };
}

export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, host, () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

export async function startTestBed(options: TestBedOptions = {}): Promise<TestBed> {
  const bin = await findBinDir();
  const owner = await serverUser();
  const exec = async (cmd: string, args: string[]): Promise<string> => {
    const [c, a] = owner ? owner.wrap(path.join(bin, cmd), args) : [path.join(bin, cmd), args];
    return (await run(c, a, { maxBuffer: 16 << 20 })).stdout;
  };
  const dir = await mkdtemp(path.join(tmpdir(), 'rap-pg-'));
  const dataDir = path.join(dir, 'data');
  const socketDir = path.join(dir, 'sock');
  const logPath = path.join(dir, 'postgres.log');
  const ca = await createCa(dir);
  const leaf = await issueCert(ca, dir, 'server', { dns: ['localhost'], ips: ['127.0.0.1'] });
  await run('mkdir', ['-p', socketDir]);
  if (owner) {
    await run('chown', ['-R', `${owner.uid}:${owner.gid}`, dir]);
  }
  await exec('initdb', ['-D', dataDir, '-U', 'postgres', '--no-sync', '-E', 'UTF8', '--locale=C', '-A', 'trust']);
  await writeFile(path.join(dataDir, 'pg_hba.conf'), [
    '# The superuser reaches the server through the unix socket, for set-up only.',
    'local all all trust',
    '# TCP must use TLS and md5, as Redshift\'s data plane does.',
    'hostssl all all 127.0.0.0/8 md5',
    'hostnossl all all all reject',
    'host all all ::1/128 reject',
    '',
  ].join('\n'));
  const port = await freePort();
  await appendFile(path.join(dataDir, 'postgresql.conf'), [
    '',
    `port = ${port}`,
    `listen_addresses = '${(options.listenAddresses ?? ['127.0.0.1', '127.0.0.2']).join(',')}'`,
    `unix_socket_directories = '${socketDir}'`,
    'ssl = on',
    `ssl_cert_file = '${leaf.certPath}'`,
    `ssl_key_file = '${leaf.keyPath}'`,
    'password_encryption = md5',
    `max_connections = ${options.maxConnections ?? 700}`,
    'shared_buffers = 64MB',
    'log_connections = on',
    'log_disconnections = on',
    "log_line_prefix = '%m [%p] %u@%d '",
    'fsync = off',
    'synchronous_commit = off',
    'full_page_writes = off',
    '',
  ].join('\n'));
  await chmod(leaf.keyPath, 0o600);
  if (owner) await chown(leaf.keyPath, owner.uid, owner.gid);

  const pgCtl = async (...args: string[]): Promise<void> => {
    try {
      await exec('pg_ctl', ['-D', dataDir, '-l', logPath, '-w', '-t', '60', ...args]);
    } catch (err) {
      const tail = existsSync(logPath) ? (await readFile(logPath, 'utf8')).split('\n').slice(-20).join('\n') : '';
      throw new Error(`pg_ctl ${args.join(' ')} failed: ${(err as Error).message}\n${tail}`);
    }
  };
  await pgCtl('start');

  const superuserQuery = async (sql: string, params: unknown[] = [], database = 'dev'): Promise<Array<Record<string, unknown>>> => {
    const client = new pg.Client({ host: socketDir, port, user: 'postgres', database });
    await client.connect();
    try {
      return (await client.query(sql, params)).rows as Array<Record<string, unknown>>;
    } finally {
      await client.end();
    }
  };
  await superuserQuery('CREATE DATABASE dev', [], 'postgres');

  let stopped = false;
  const bed: TestBed = {
    host: '127.0.0.1', port, caCertPath: ca.certPath, caPem: ca.certPem, ca, dir, dataDir, socketDir, logPath,
    readLog: () => readFile(logPath, 'utf8'),
    superuserQuery,
    async createLoginRole(name, password, validUntil) {
      const q = quoteIdent(name);
      const exists = (await superuserQuery('SELECT 1 FROM pg_roles WHERE rolname = $1', [name])).length > 0;
      const until = validUntil ? ` VALID UNTIL '${validUntil.toISOString()}'` : '';
      const pw = `'${password.replace(/'/g, "''")}'`;
      await superuserQuery(`${exists ? 'ALTER' : 'CREATE'} ROLE ${q} LOGIN PASSWORD ${pw}${until}`);
      await superuserQuery(`GRANT CONNECT ON DATABASE dev TO ${q}`);
      await superuserQuery(`GRANT USAGE, CREATE ON SCHEMA public TO ${q}`);
    },
    async restart() {
      await pgCtl('restart', '-m', 'fast');
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      await exec('pg_ctl', ['-D', dataDir, '-m', 'immediate', '-w', 'stop']).catch(() => undefined);
      await rm(dir, { recursive: true, force: true });
    },
  };
  return bed;
}

/** node-postgres settings for a direct, verified-TLS connection to the bed (the baseline the proxy is compared to). */
export function directTlsConnectionConfig(bed: TestBed, user: string, password: string, database = 'dev'): pg.ClientConfig {
  return {
    host: 'localhost', port: bed.port, user, password, database,
    ssl: { ca: bed.caPem, servername: 'localhost', rejectUnauthorized: true },
  };
}
