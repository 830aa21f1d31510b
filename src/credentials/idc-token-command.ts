/**
 * `--idc-token-command CMD`: IAM Identity Center tokens for machines with nobody to sign in (CI, schedulers). The
 * command runs through /bin/sh (so a pipe such as `… | jq -r .accessToken` works) when a token is needed — never
 * per login: its token is kept until shortly before it expires or until Redshift refuses it, and concurrent
 * logins share one run.
 *
 * Its standard output is the token, or JSON in the shape of the AWS CLI's token cache (~/.aws/sso/cache/*.json:
 * `accessToken`, `expiresAt`), so `cat` of such a file works. A bare token's lifetime is unknown: we assume 900
 * seconds, the lifetime both Redshift drivers assume for a token handed to them (IdpTokenAuthPlugin.java
 * DEFAULT_IDP_TOKEN_EXPIRY_IN_SEC), unless it is a JWT whose `exp` says otherwise.
 * The token never reaches a log or an error; nor does the command's output.
 */
import { spawn } from 'node:child_process';
import { ClientError } from '../protocol/client-error.js';
import { SqlState } from '../protocol/sqlstate.js';
import { IdcToken } from './idc-token.js';
import type { IdcTokenSource } from './idc-token-contract.js';

/** The lifetime assumed for a token that does not say (the drivers' DEFAULT_IDP_TOKEN_EXPIRY_IN_SEC). */
const ASSUMED_LIFETIME_MS = 900_000;
/** A token is replaced this long before it expires (at most a tenth of its lifetime). */
const MARGIN_MS = 60_000;
/** The command must finish within this time. */
const COMMAND_TIMEOUT_MS = 30_000;
/** Tokens are a few KB; anything much larger is not a token. */
const MAX_OUTPUT = 64 * 1024;

export interface IdcTokenCommandOptions {
  readonly command: string;
  readonly timeoutMs?: number;
  readonly now?: () => number;
}

export class IdcTokenCommand implements IdcTokenSource {
  readonly action = '--idc-token-command';
  readonly refusalHint = 'Check that --idc-token-command prints a current IAM Identity Center access token for this '
    + 'cluster\'s Identity Center application (scope redshift:connect), for a user assigned to it; then connect again.';
  private current: IdcToken | undefined;
  private inflight: Promise<IdcToken> | undefined;
  private readonly now: () => number;
  private readonly running = new Set<ReturnType<typeof spawn>>();

  constructor(private readonly options: IdcTokenCommandOptions) {
    this.now = options.now ?? Date.now;
  }

  keyFor(): string {
    return `idc-command:${this.options.command}`;
  }

  token(signal?: AbortSignal): Promise<IdcToken> {
    const t = this.current;
    if (t && this.now() < freshUntil(t)) return Promise.resolve(t);
    this.inflight ??= this.run().then((token) => {
      this.current = token;
      return token;
    }).finally(() => {
      this.inflight = undefined;
    });
    return signal ? raceAbort(this.inflight, signal) : this.inflight;
  }

  refused(token: IdcToken): void {
    if (this.current === token) this.current = undefined;
  }

  close(): void {
    for (const child of this.running) killGroup(child);
  }

  private run(): Promise<IdcToken> {
    const timeoutMs = this.options.timeoutMs ?? COMMAND_TIMEOUT_MS;
    return new Promise<IdcToken>((resolve, reject) => {
      // Its own process group, so that a timeout ends the whole pipeline, not only the shell.
      const child = spawn('/bin/sh', ['-c', this.options.command], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
      this.running.add(child);
      const out: Buffer[] = [];
      let outBytes = 0;
      let errTail = '';
      let failed: ClientError | undefined;
      const timer = setTimeout(() => {
        failed = commandFailed(`did not finish within ${timeoutMs / 1000} s`);
        killGroup(child);
      }, timeoutMs);
      child.stdout.on('data', (chunk: Buffer) => {
        outBytes += chunk.length;
        if (outBytes > MAX_OUTPUT) {
          failed ??= commandFailed(`printed more than ${MAX_OUTPUT} bytes, which is not a token`);
          killGroup(child);
          return;
        }
        out.push(chunk);
      });
      // Only the end of stderr, for the error message: it says why, the way the command itself put it.
      child.stderr.on('data', (chunk: Buffer) => {
        errTail = (errTail + chunk.toString('utf8')).slice(-500);
      });
      child.on('error', (err) => {
        failed ??= commandFailed(`could not be started (${err.message})`);
      });
      child.on('close', (code, sig) => {
        clearTimeout(timer);
        this.running.delete(child);
        if (failed) return reject(failed);
        if (code !== 0) {
          const said = lastLine(errTail);
          return reject(commandFailed(`exited with ${code === null ? `signal ${sig ?? '?'}` : `status ${code}`}${said ? `: ${said}` : ''}`));
        }
        try {
          resolve(parseOutput(Buffer.concat(out).toString('utf8'), this.now()));
        } catch (err) {
          reject(err);
        }
      });
    });
  }
}

/** The token, and when it expires: AWS CLI token-cache JSON, or a bare token (a JWT's `exp` read when present). */
export function parseOutput(text: string, nowMs: number): IdcToken {
  const trimmed = text.trim();
  if (trimmed === '') throw commandFailed('printed nothing (it must print the access token)');
  if (trimmed.startsWith('{')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(trimmed);
    } catch {
      throw commandFailed('printed text starting with "{" that is not JSON');
    }
    const { accessToken, expiresAt } = (parsed ?? {}) as { accessToken?: unknown; expiresAt?: unknown };
    if (typeof accessToken !== 'string' || accessToken === '') throw commandFailed('printed JSON without an "accessToken"');
    const expires = typeof expiresAt === 'string' ? Date.parse(expiresAt) : Number.NaN;
    return new IdcToken(accessToken, new Date(Number.isFinite(expires) ? expires : nowMs + ASSUMED_LIFETIME_MS), '--idc-token-command',
      undefined, new Date(nowMs));
  }
  if (/\s/.test(trimmed)) throw commandFailed('printed more than one word (it must print the access token alone)');
  return new IdcToken(trimmed, new Date(jwtExpiry(trimmed) ?? nowMs + ASSUMED_LIFETIME_MS), '--idc-token-command',
    undefined, new Date(nowMs));
}

/** A JWT's `exp` in ms, when the token is one (Identity Center's own tokens are opaque; external IdPs' are JWTs). */
function jwtExpiry(token: string): number | undefined {
  const parts = token.split('.');
  if (parts.length !== 3) return undefined;
  try {
    const exp = (JSON.parse(Buffer.from(parts[1] as string, 'base64url').toString('utf8')) as { exp?: unknown }).exp;
    return typeof exp === 'number' && Number.isFinite(exp) ? exp * 1000 : undefined;
  } catch {
    return undefined;
  }
}

function freshUntil(token: IdcToken): number {
  const lifetime = token.expiresAt.getTime() - token.obtainedAt.getTime();
  return token.expiresAt.getTime() - Math.min(MARGIN_MS, Math.max(0, lifetime / 10));
}

function lastLine(text: string): string {
  const lines = text.trim().split('\n');
  return (lines[lines.length - 1] ?? '').trim().slice(0, 200);
}

function commandFailed(why: string): ClientError {
  return new ClientError({
    code: SqlState.InvalidAuthorizationSpecification,
    message: `no IAM Identity Center token: --idc-token-command ${why}`,
    hint: 'Run the command yourself to see what it prints; it must print an access token (or AWS CLI token-cache JSON) and exit 0.',
  });
}

function raceAbort<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
    signal.addEventListener('abort', onAbort, { once: true });
    p.then((v) => {
      signal.removeEventListener('abort', onAbort);
      resolve(v);
    }, (e: unknown) => {
      signal.removeEventListener('abort', onAbort);
      reject(e);
    });
  });
}

function killGroup(child: ReturnType<typeof spawn>): void {
  try {
    if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
  } catch {
    child.kill('SIGKILL');
  }
}
