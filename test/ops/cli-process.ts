/**
 * The built executable as a child process, for tests of signals, exit codes and output: waits on what the
 * process prints (never on a timer), and reads its JSON log lines.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { TEST_CLUSTER, TEST_REGION } from '../support/stack.js';
import type { Stack } from '../support/stack.js';

export const BIN = path.resolve('dist/src/bin.js');

export interface CliProcess {
  readonly child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** The exit code, or 128 + the signal number when a signal ended it. */
  readonly exit: Promise<number>;
  /** Resolves with the first match of `pattern` in stderr (now or later); rejects after timeoutMs or at exit. */
  waitForStderr(pattern: RegExp, timeoutMs?: number): Promise<RegExpExecArray>;
  /** Parsed JSON log lines (stderr) whose msg matches. */
  logs(msg: string | RegExp): Array<Record<string, unknown>>;
}

const SIGNALS: Record<string, number> = { SIGINT: 2, SIGKILL: 9, SIGTERM: 15 };

export function runCli(args: readonly string[], env: NodeJS.ProcessEnv = process.env): CliProcess {
  if (!existsSync(BIN)) throw new Error('dist/src/bin.js is missing: npm test runs npm run build first');
  return runExecutable(process.execPath, [BIN, ...args], env);
}

/** Any program (the single-file executable, an installed bin) watched the same way as runCli's. */
export function runExecutable(file: string, args: readonly string[], env: NodeJS.ProcessEnv = process.env): CliProcess {
  const child = spawn(file, [...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  child.stderr?.on('data', (d: Buffer) => {
    err += d.toString();
  });
  // 'close', not 'exit': only then has all of the child's output been read.
  const exit = new Promise<number>((resolve) => child.once('close', (code, signal) => {
    resolve(code ?? 128 + (signal ? SIGNALS[signal] ?? 0 : 0));
  }));
  let exited = false;
  void exit.then(() => {
    exited = true;
  });
  const waitForStderr = (pattern: RegExp, timeoutMs = 15_000): Promise<RegExpExecArray> =>
    new Promise((resolve, reject) => {
      const check = (): boolean => {
        const m = pattern.exec(err);
        if (m) {
          cleanup();
          resolve(m);
          return true;
        }
        return false;
      };
      const onExit = (): void => {
        if (!check()) {
          cleanup();
          reject(new Error(`exited before ${String(pattern)} appeared:\n${err}`));
        }
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`${String(pattern)} did not appear within ${timeoutMs} ms:\n${err}`));
      }, timeoutMs);
      const cleanup = (): void => {
        clearTimeout(timer);
        child.stderr?.off('data', check);
        child.off('close', onExit);
      };
      if (check()) return;
      if (exited) {
        onExit();
        return;
      }
      child.stderr?.on('data', check);
      child.once('close', onExit);
    });
  const logs = (msg: string | RegExp): Array<Record<string, unknown>> => err.split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .filter((e) => (typeof msg === 'string' ? e.msg === msg : msg.test(String(e.msg))));
  return { child, stdout: () => out, stderr: () => err, exit, waitForStderr, logs };
}

/** Flags that point the executable at the test stack's bed and emulator. */
export function stackArgs(stack: Stack): string[] {
  return ['--upstream', `localhost:${stack.bed.port}`, '--cluster-id', TEST_CLUSTER, '--region', TEST_REGION,
    '--aws-endpoint-url', stack.emulator.url, '--ca-file', stack.bed.caCertPath, '--auto-create', '--log-format', 'json'];
}

/** Ports of the process's listeners, by listener label, once all `count` are listening. */
export async function listeningPorts(p: CliProcess, count = 1): Promise<Map<string, number>> {
  await p.waitForStderr(new RegExp(`("msg":"listening"[^\\n]*\\n[^]*){${count}}`));
  return new Map(p.logs('listening').map((e) => [String(e.listener), Number(e.port)]));
}
