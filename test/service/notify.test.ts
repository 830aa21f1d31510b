/**
 * Type=notify readiness against a real AF_UNIX datagram receiver (python3's socket module, as systemd's notify
 * socket): the executable sends READY=1 with its MAINPID once listening and STOPPING=1 when SIGTERM starts the
 * shutdown, through systemd-notify when it is on PATH and through python3 when it is not; abstract-namespace
 * sockets work too.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { accessSync, constants, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack } from '../support/stack.js';
import type { Stack } from '../support/stack.js';
import { listeningPorts, runCli, stackArgs } from '../ops/cli-process.js';

const PYTHON = '/usr/bin/python3';
const RECEIVER = path.resolve('test/service/notify-receiver.py');
let stack: Stack;
let dir: string;
const receivers: ChildProcess[] = [];

beforeAll(async () => {
  stack = await startStack();
  dir = mkdtempSync(path.join(os.tmpdir(), 'rap-notify-'));
});

afterAll(async () => {
  for (const r of receivers) r.kill();
  rmSync(dir, { recursive: true, force: true });
  await stack?.stop();
});

interface Receiver {
  /** Resolves with the first datagram for which `match` holds (now or later). */
  next(match: (text: string) => boolean): Promise<string>;
}

async function receiver(address: string): Promise<Receiver> {
  const child = spawn(PYTHON, [RECEIVER, address], { stdio: ['ignore', 'pipe', 'inherit'] });
  receivers.push(child);
  const messages: string[] = [];
  const waiters: Array<() => void> = [];
  let buf = '';
  let bound: () => void = () => undefined;
  const isBound = new Promise<void>((resolve) => {
    bound = resolve;
  });
  child.stdout?.on('data', (d: Buffer) => {
    buf += d.toString();
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      if (line === 'bound') bound();
      else messages.push(JSON.parse(line) as string);
      for (const w of waiters.splice(0)) w();
    }
  });
  await isBound;
  return {
    next: (match) => new Promise((resolve) => {
      const check = (): void => {
        const found = messages.find(match);
        if (found !== undefined) resolve(found);
        else waiters.push(check);
      };
      check();
    }),
  };
}

const fields = (text: string): Record<string, string> =>
  Object.fromEntries(text.split('\n').map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));

async function readyThenStopping(socket: string, env: NodeJS.ProcessEnv, helper: string): Promise<void> {
  const r = await receiver(socket);
  const p = runCli(['--listen', '127.0.0.1:0', ...stackArgs(stack), '--log-level', 'debug'], { ...env, NOTIFY_SOCKET: socket });
  await listeningPorts(p);
  const ready = fields(await r.next((t) => t.includes('READY=1')));
  expect(ready).toMatchObject({ READY: '1', MAINPID: String(p.child.pid), STATUS: expect.stringMatching(/^serving 127\.0\.0\.1:\d+$/) as unknown });
  p.child.kill('SIGTERM');
  const stopping = fields(await r.next((t) => t.includes('STOPPING=1')));
  expect(stopping).toMatchObject({ STOPPING: '1', MAINPID: String(p.child.pid), STATUS: 'shutting down (SIGTERM)' });
  expect(await p.exit).toBe(143);
  expect(p.logs('could not tell the service manager'), p.stderr()).toEqual([]);
  expect(p.logs('told the service manager').map((e) => e.helper)).toEqual([helper, helper]);
}

describe('systemd readiness notification', () => {
  it('reports READY=1 and STOPPING=1 through systemd-notify (which the systemd package provides)', async () => {
    // Fails, not skips, on a machine without it: .ci/packages installs systemd.
    expect(process.env.PATH?.split(':').some((d) => d !== '' && executable(path.join(d, 'systemd-notify')))).toBe(true);
    await readyThenStopping(path.join(dir, 'notify-1'), process.env, 'systemd-notify');
  });

  it('falls back to python3 when systemd-notify is not on PATH, and reaches an abstract socket', async () => {
    const bin = path.join(dir, 'bin');
    mkdirSync(bin);
    symlinkSync(PYTHON, path.join(bin, 'python3'));
    await readyThenStopping(`@rap-notify-test-${process.pid}`, { ...process.env, PATH: bin }, 'python3');
  });
});

function executable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
