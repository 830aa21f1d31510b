/**
 * systemd readiness (Type=notify): when the service manager sets NOTIFY_SOCKET, tell it READY=1 once the listeners
 * accept, RELOADING=1 around a reload and STOPPING=1 when shutdown begins (sd_notify(3): one datagram of
 * newline-separated KEY=VALUE lines, sent to the AF_UNIX datagram socket NOTIFY_SOCKET names; a leading '@' is
 * Linux's abstract namespace).
 *
 * Why a helper process: Node has no AF_UNIX datagram sockets (node:dgram is UDP only, node:net is streams only, and
 * a stream connect to a datagram socket fails with EPROTOTYPE), and a native addon is what this project does not
 * ship. So each notification is handed to the first of these found on PATH, none of them a dependency of ours:
 *  - systemd-notify, which ships with systemd itself, so it is present wherever systemd set NOTIFY_SOCKET; it
 *    waits until the manager has read the message (BARRIER), so the manager attributes it before the helper exits;
 *  - python3 or perl (perl-base is Essential on Debian), for other managers that speak the same protocol
 *    (podman's conmon, s6, finit) in images without systemd.
 * The helper is not the main process, so the unit says NotifyAccess=all, and every message carries MAINPID= (our
 * pid) so the manager still watches us. Messages leave one at a time, in order.
 */
import { spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import path from 'node:path';
import type { Logger } from '../ops/logger.js';

export type NotifyFields = Readonly<Record<string, string>>;

export interface ServiceNotifier {
  /** Which helper carries the messages. */
  readonly helper: string;
  /** Queues one notification; failures are logged, never thrown. */
  send(fields: NotifyFields): void;
  /** Resolves once every queued notification has been handed over (or failed). */
  idle(): Promise<void>;
}

const PYTHON = [
  'import os, socket, sys',
  'a = os.environ["NOTIFY_SOCKET"]',
  'a = "\\0" + a[1:] if a.startswith("@") else a',
  's = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)',
  's.sendto(sys.argv[1].encode(), a)',
].join('\n');

const PERL = 'use Socket; my $a = $ENV{NOTIFY_SOCKET}; $a =~ s/^@/\\0/; '
  + 'socket(my $s, PF_UNIX, SOCK_DGRAM, 0) or die "socket: $!"; '
  + 'defined(send($s, $ARGV[0], 0, pack_sockaddr_un($a))) or die "send: $!";';

interface Helper {
  readonly name: string;
  readonly command: string;
  args(message: string, fields: NotifyFields, pid: number): string[];
}

const HELPERS: readonly Helper[] = [
  { name: 'systemd-notify', command: 'systemd-notify',
    args: (_m, fields, pid) => [`--pid=${pid}`, ...Object.entries(fields).map(([k, v]) => `${k}=${v}`)] },
  { name: 'python3', command: 'python3', args: (m) => ['-c', PYTHON, m] },
  { name: 'perl', command: 'perl', args: (m) => ['-e', PERL, m] },
];

function onPath(command: string, envPath: string | undefined): string | undefined {
  for (const dir of (envPath ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, command);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** One KEY=VALUE per line; a value cannot hold a newline, which would start a new key. */
export function notifyMessage(fields: NotifyFields, pid: number): string {
  const all: NotifyFields = { ...fields, MAINPID: String(pid) };
  return Object.entries(all).map(([k, v]) => `${k}=${v.replace(/[\r\n]+/g, ' ')}`).join('\n');
}

/** A notifier when NOTIFY_SOCKET is set (undefined otherwise); a warning when it cannot be served. */
export function serviceNotifier(env: NodeJS.ProcessEnv, log: Logger, pid = process.pid): ServiceNotifier | undefined {
  const socket = env.NOTIFY_SOCKET;
  if (!socket) return undefined;
  if (!socket.startsWith('/') && !socket.startsWith('@')) {
    log.warn({ notifySocket: socket }, 'NOTIFY_SOCKET is not a Unix socket path; readiness is not reported');
    return undefined;
  }
  const found = HELPERS.map((h) => ({ h, file: onPath(h.command, env.PATH) })).find((x) => x.file !== undefined);
  if (!found?.file) {
    log.warn('NOTIFY_SOCKET is set but none of systemd-notify, python3, perl is on PATH to deliver the datagram: '
      + 'readiness is not reported (or run the unit as Type=exec with ExecStartPost=redshift-auth-proxy wait)');
    return undefined;
  }
  const { h: helper, file } = found;
  let queue = Promise.resolve();
  const deliver = (fields: NotifyFields): Promise<void> => new Promise((resolve) => {
    const message = notifyMessage(fields, pid);
    const clean: Record<string, string> = {};
    for (const [k, v] of Object.entries(fields)) clean[k] = v.replace(/[\r\n]+/g, ' ');
    const child = spawn(file, helper.args(message, clean, pid), {
      env: { PATH: env.PATH ?? '', NOTIFY_SOCKET: socket }, stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    child.once('error', (err) => {
      log.warn({ helper: helper.name, err: err.message }, 'could not tell the service manager');
      resolve();
    });
    child.once('close', (code) => {
      if (code === 0) log.debug({ helper: helper.name, fields: Object.keys(fields) }, 'told the service manager');
      else log.warn({ helper: helper.name, code, stderr: stderr.trim().slice(0, 500) }, 'could not tell the service manager');
      resolve();
    });
  });
  return {
    helper: helper.name,
    send(fields) {
      queue = queue.then(() => deliver(fields));
    },
    idle: () => queue,
  };
}
