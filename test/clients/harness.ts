/**
 * What the client-compatibility tests share: the stack with a second database, a runner for the helper programs
 * (Java, Python, unixODBC, psql, pgbench) that report `key=value` lines, and presence checks that FAIL with the
 * Debian package to install — a client we cannot run must show up red in CI, never as a skipped test.
 */
import { spawn } from 'node:child_process';
import { accessSync, constants, existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startStack } from '../support/stack.js';
import type { Stack } from '../support/stack.js';

/** The helper programs live next to this file, in test/clients/{java,python} (vitest runs the sources). */
export const CLIENTS_DIR = path.dirname(fileURLToPath(import.meta.url));

/**
 * Debian's interpreter, not whatever `python3` comes first on PATH (pyenv, a venv): python3-psycopg2 and
 * python3-pyodbc install into /usr/lib/python3/dist-packages, which only it sees.
 */
export const DEBIAN_PYTHON = '/usr/bin/python3';

/** The second database every client file connects to, to prove the proxy honours the database a tool sends. */
export const OTHER_DATABASE = 'other';

/** The whole stack, plus database `other` that any (auto-created) user may connect to. */
export async function startClientStack(): Promise<Stack> {
  const stack = await startStack();
  try {
    await stack.bed.superuserQuery(`create database ${OTHER_DATABASE}`, [], 'postgres');
    // The emulator's data plane grants CONNECT on `dev` only; `other` is open to every role.
    await stack.bed.superuserQuery(`grant connect on database ${OTHER_DATABASE} to public`, [], 'postgres');
    return stack;
  } catch (err) {
    await stack.stop();
    throw err;
  }
}

export interface ProgramResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  /** Decoded as UTF-8; `stdoutBytes` has the bytes as written (for clients told to use another encoding). */
  readonly stdout: string;
  readonly stdoutBytes: Buffer;
  readonly stderr: string;
  readonly ms: number;
}

export interface RunOptions {
  readonly input?: string | Buffer;
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
  readonly timeoutMs?: number;
}

/**
 * Runs a program to completion and collects its output; never rejects on a non-zero exit (tests assert the code
 * and show stderr). A program still running at the timeout is killed, and the result says so in stderr.
 */
export function runProgram(command: string, args: readonly string[], options: RunOptions = {}): Promise<ProgramResult> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const env: NodeJS.ProcessEnv = { ...process.env, ...options.env };
    // Nothing must ever log in with a password from the environment: the proxy needs none.
    delete env.PGPASSWORD;
    const child = spawn(command, [...args], { env, cwd: options.cwd, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, options.timeoutMs ?? 30_000);
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    child.stdin.on('error', () => undefined); // a program that exits without reading its input
    child.once('error', (e) => {
      clearTimeout(timer);
      reject(new Error(`cannot run ${command}: ${e.message}`, { cause: e }));
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      const stderr = Buffer.concat(err).toString('utf8') + (timedOut ? `\n[killed after ${options.timeoutMs ?? 30_000} ms]` : '');
      const stdoutBytes = Buffer.concat(out);
      resolve({ code, signal, stdout: stdoutBytes.toString('utf8'), stdoutBytes, stderr, ms: Date.now() - started });
    });
    child.stdin.end(options.input);
  });
}

/**
 * The `key=value` lines a helper program printed (other lines are ignored). Throws with the program's output
 * when it failed, so a failing client shows its own stack trace or error text in the test report.
 */
export function report(result: ProgramResult, what: string): Map<string, string> {
  if (result.code !== 0) {
    throw new Error(`${what} exited with ${result.code ?? result.signal}\n--- stdout ---\n${result.stdout}\n--- stderr ---\n${result.stderr}`);
  }
  const values = new Map<string, string>();
  for (const line of result.stdout.split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) values.set(line.slice(0, eq), line.slice(eq + 1));
  }
  return values;
}

/** `report` as a plain object, for `toMatchObject`. */
export function reportObject(result: ProgramResult, what: string): Record<string, string> {
  return Object.fromEntries(report(result, what));
}

/** Throws, naming the Debian package, unless `file` exists or `command` is on PATH. */
export function requireInstalled(fileOrCommand: string, debianPackage: string): void {
  if (fileOrCommand.startsWith('/') ? existsSync(fileOrCommand) : onPath(fileOrCommand)) return;
  throw new Error(`${fileOrCommand} is missing: install the Debian package ${debianPackage} ` +
    '(.ci/run installs everything listed in .ci/packages)');
}

function onPath(command: string): boolean {
  return (process.env.PATH ?? '').split(path.delimiter).some((dir) => {
    try {
      accessSync(path.join(dir, command), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/** Resolves once `check` returns true; checks every `intervalMs`. Waits on a condition, never a fixed time. */
export async function waitFor(check: () => Promise<boolean>, what: string, timeoutMs = 10_000, intervalMs = 25): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** True while a statement with exactly this text is running on the bed (seen by the superuser, any session). */
export async function statementRunning(stack: Stack, sql: string): Promise<boolean> {
  const rows = await stack.bed.superuserQuery(
    "select 1 from pg_stat_activity where query = $1 and state = 'active'", [sql], 'postgres');
  return rows.length > 0;
}
