/**
 * pgbouncer as a user would deploy it in front of the same server instead of us: session pooling, verified TLS to
 * the server (`verify-full` against the bed's CA, host name `localhost`), a static password for one role kept in
 * its auth_file, and plain TCP on loopback towards clients with no client password (`trust`), as the proxy offers.
 * Runs in the foreground (so its pid is ours to sample) as the `postgres` user when we are root.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { chown, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort } from '../../test/support/pg-server.js';
import { serviceUser } from './system.js';

export interface PgbouncerOptions {
  readonly binary: string;
  readonly serverPort: number;
  readonly caFile: string;
  readonly user: string;
  readonly password: string;
  readonly database: string;
  /** Server connections per user and database: enough for every session the benchmark holds at once. */
  readonly poolSize: number;
  readonly maxClients: number;
}

export interface RunningPgbouncer {
  readonly port: number;
  readonly pid: number;
  stop(): Promise<void>;
}

export async function startPgbouncer(o: PgbouncerOptions): Promise<RunningPgbouncer> {
  const dir = await mkdtemp(path.join(tmpdir(), 'rap-bouncer-'));
  const port = await freePort();
  const ini = path.join(dir, 'pgbouncer.ini');
  const userlist = path.join(dir, 'userlist.txt');
  await writeFile(userlist, `"${o.user}" "${o.password}"\n`, { mode: 0o600 });
  await writeFile(ini, [
    '[databases]',
    `${o.database} = host=localhost port=${o.serverPort} dbname=${o.database}`,
    '[pgbouncer]',
    'listen_addr = 127.0.0.1',
    `listen_port = ${port}`,
    'unix_socket_dir =',
    'auth_type = trust',
    `auth_file = ${userlist}`,
    'pool_mode = session',
    `max_client_conn = ${o.maxClients}`,
    `default_pool_size = ${o.poolSize}`,
    'server_tls_sslmode = verify-full',
    `server_tls_ca_file = ${o.caFile}`,
    // libpq clients (psql, pgbench) send these; pgbouncer refuses unknown startup parameters otherwise.
    'ignore_startup_parameters = extra_float_digits,options',
    '',
  ].join('\n'));
  const user = await serviceUser();
  if (user) await Promise.all([dir, ini, userlist].map((p) => chown(p, user.uid, user.gid)));

  const child = spawn(o.binary, [ini], { stdio: ['ignore', 'ignore', 'pipe'], ...(user ?? {}) });
  let log = '';
  try {
    await new Promise<void>((resolve, reject) => {
      child.stderr?.on('data', (d: Buffer) => {
        // Keep only the tail: pgbouncer logs every connection, and a long run makes many.
        log = (log + d.toString()).slice(-20_000);
        if (/process up/.test(log)) resolve();
      });
      child.once('exit', (code) => reject(new Error(`pgbouncer exited ${code} before it was up:\n${log}`)));
      child.once('error', reject);
    });
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    port,
    pid: child.pid as number,
    async stop() {
      await stopChild(child, 'SIGTERM');
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Signals a child and waits for it to exit (SIGKILL after 10 s). */
export async function stopChild(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill(signal);
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}
