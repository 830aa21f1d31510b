/**
 * Sign-in on demand, the proxy's side: when a client's credential lookup fails because its profile's IAM Identity
 * Center sign-in is missing, expired or revoked, the gate starts (or joins) the one sign-in for that profile and
 * holds the client's startup until it completes — at most --sign-in-wait seconds. Past that, or when no browser
 * could be opened (a device code the person must enter elsewhere), or when the sign-in was refused, the client
 * gets FATAL 28000 saying what to do; the sign-in itself goes on, so the tool's next connect succeeds once the
 * person has finished it.
 */
import type { Logger } from '../ops/logger.js';
import { ClientError } from '../protocol/client-error.js';
import { SqlState } from '../protocol/sqlstate.js';
import { SsoConfigError, profileSignIn } from './sso-config.js';
import { SignInFailedError } from './sign-in-types.js';
import type { SignInPrompt, SignInTarget } from './sign-in-types.js';
import { SsoSignIn } from './sso-sign-in.js';
import type { SsoSignInOptions } from './sso-sign-in.js';

/** SDK errors that mean "this profile's Identity Center sign-in is gone", as credential-provider-sso raises them. */
const PROVIDER_ERRORS = new Set(['CredentialsProviderError', 'TokenProviderError']);

export function needsSignIn(err: unknown): boolean {
  const e = (err ?? {}) as { name?: unknown; message?: unknown };
  const name = typeof e.name === 'string' ? e.name : '';
  const text = typeof e.message === 'string' ? e.message : '';
  // UnauthorizedException: the portal no longer accepts a token whose file still says it is valid (signed out).
  return (PROVIDER_ERRORS.has(name) && /\bSSO\b/i.test(text)) || name === 'UnauthorizedException';
}

export interface SignInGateOptions extends SsoSignInOptions {
  /** --sign-in-wait in ms: how long a client's startup is held; 0 turns sign-in on demand off. */
  readonly waitMs: number;
  readonly log?: Logger | undefined;
}

/** What the status page shows of a profile's sign-in (never a token). */
export interface SignInState {
  readonly profile: string;
  readonly startUrl: string;
  readonly pending?: SignInPrompt | undefined;
  readonly lastError?: string | undefined;
}

export class SignInGate {
  readonly provider: SsoSignIn;
  /** Logins waiting for a sign-in, per profile name. */
  private readonly held = new Map<string, number>();
  private readonly promptWatchers = new Set<(target: SignInTarget, prompt: SignInPrompt) => void>();
  private readonly states = new Map<string, { profile: string; target: SignInTarget; lastError?: string }>();

  constructor(private readonly options: SignInGateOptions) {
    this.provider = new SsoSignIn({
      ...options,
      onPrompt: (target, prompt) => {
        options.log?.warn({ startUrl: target.startUrl, url: prompt.url, userCode: prompt.userCode, browserOpened: prompt.browserOpened },
          prompt.browserOpened ? 'sign-in to IAM Identity Center opened in the browser' : 'sign in to IAM Identity Center at this URL');
        options.onPrompt?.(target, prompt);
        for (const watch of this.promptWatchers) watch(target, prompt);
      },
    });
  }

  /** --sign-in-wait in ms (IdC listeners bound their own waits with it). */
  get waitMs(): number {
    return this.options.waitMs;
  }

  get enabled(): boolean {
    return this.options.waitMs > 0;
  }

  /**
   * Whether logins of this profile are waiting for its sign-in: their startup and handshake timers hold off
   * meanwhile (the wait has its own bound, --sign-in-wait). Every login of the profile needs that same sign-in.
   */
  holdsLogins(profile: string | undefined): boolean {
    return (this.held.get(this.profileName(profile)) ?? 0) > 0;
  }

  private profileName(profile: string | undefined): string {
    return profile ?? this.options.env?.AWS_PROFILE ?? process.env.AWS_PROFILE ?? 'default';
  }

  /**
   * After a failed credential lookup: false when `cause` is not a missing sign-in (or on-demand is off, or the
   * profile has no Identity Center settings) — the caller reports `cause` as before. True once a new token is
   * cached, so the lookup can be tried again. Throws a ClientError 28000 otherwise.
   */
  async signInFor(profile: string | undefined, cause: unknown, signal?: AbortSignal): Promise<boolean> {
    if (!this.enabled || !needsSignIn(cause)) return false;
    let target: SignInTarget;
    let name: string;
    try {
      target = profileSignIn(profile, this.options.env).target;
      name = this.profileName(profile);
    } catch (err) {
      if (err instanceof SsoConfigError) return false;
      throw err;
    }
    const state = this.states.get(name) ?? { profile: name, target };
    this.states.set(name, state);
    const refused = (cause as { name?: unknown }).name === 'UnauthorizedException'
      ? (await this.provider.cached(target))?.accessToken : undefined;
    const wait = new AbortController();
    const timer = setTimeout(() => wait.abort(new Error('sign-in wait elapsed')), this.options.waitMs);
    const prompted = this.onNoBrowser(target, wait);
    const stop = signal ? AbortSignal.any([signal, wait.signal]) : wait.signal;
    this.held.set(name, (this.held.get(name) ?? 0) + 1);
    try {
      await this.provider.accessToken(target, { signal: stop, refused });
      delete state.lastError;
      return true;
    } catch (err) {
      if (signal?.aborted) throw err;
      const failure = this.describe(name, target, err);
      state.lastError = failure.message;
      throw failure;
    } finally {
      clearTimeout(timer);
      prompted.cancel();
      this.held.set(name, (this.held.get(name) ?? 1) - 1);
    }
  }

  /** Profiles a sign-in was needed for, with their state now. */
  signIns(): SignInState[] {
    return [...this.states.values()].map((s) => ({ profile: s.profile, startUrl: s.target.startUrl,
      pending: this.provider.pending(s.target), lastError: s.lastError }));
  }

  close(): void {
    this.provider.close();
  }

  /** A device code (no browser) cannot be finished by waiting here: stop waiting as soon as it is shown. */
  private onNoBrowser(target: SignInTarget, wait: AbortController): { cancel(): void } {
    const stopIfNoBrowser = (p: SignInPrompt | undefined): void => {
      if (p && !p.browserOpened) wait.abort(new Error('no browser'));
    };
    const watch = (t: SignInTarget, p: SignInPrompt): void => {
      if (t.startUrl === target.startUrl && t.sessionName === target.sessionName) stopIfNoBrowser(p);
    };
    this.promptWatchers.add(watch);
    stopIfNoBrowser(this.provider.pending(target));
    return { cancel: () => this.promptWatchers.delete(watch) };
  }

  private describe(profile: string, target: SignInTarget, err: unknown): ClientError {
    const refused = SqlState.InvalidAuthorizationSpecification;
    const login = `redshift-auth-proxy login${profile === 'default' ? '' : ` --profile ${profile}`}`;
    if (err instanceof SignInFailedError) {
      return new ClientError({ code: refused,
        message: err.reason === 'denied' ? `the IAM Identity Center sign-in for profile "${profile}" was refused in the browser`
          : `the IAM Identity Center sign-in for profile "${profile}" was not completed: ${err.message}`,
        hint: `Connect again to start a new sign-in, or run: ${login}` }, { cause: err });
    }
    const pending = this.provider.pending(target);
    if (pending) {
      const code = pending.userCode !== undefined ? ` and enter the code ${pending.userCode}` : '';
      return new ClientError({ code: refused,
        message: `sign in to IAM Identity Center to connect: open ${pending.url}${code}`,
        detail: pending.browserOpened ? 'The proxy opened this page in your browser and is waiting for the sign-in.'
          : 'No browser could be opened on the machine running the proxy; the page can be opened on any device.',
        hint: 'Finish the sign-in, then connect again: the proxy picks the new session up without a restart.' }, { cause: err });
    }
    const text = err instanceof Error ? err.message : String(err);
    return new ClientError({ code: refused, message: `the IAM Identity Center sign-in for profile "${profile}" failed: ${text}`,
      hint: `Check the proxy log, or run: ${login}` }, { cause: err });
  }
}
