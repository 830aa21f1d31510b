/**
 * The status page's facts, as JSON (GET /status) and for the HTML page (GET /): who is signed in to IAM Identity
 * Center and until when, each listener and its target, credential expiry per identity, open sessions, and the last
 * errors clients were given with their hints. Built only from what is safe to show: expiries, names, ARNs, the
 * texts clients were already sent — never a token, key or password.
 */
import type { Config } from '../config/config.js';
import { getCallerIdentity } from '../credentials/caller-identity.js';
import { identityLabel } from '../ops/metrics.js';
import type { RunningProxy } from '../proxy/proxy.js';
import { signInsOf } from '../signin/config-sign-ins.js';
import type { NamedSignIn } from '../signin/config-sign-ins.js';

export interface SignInStatus {
  readonly id: number;
  readonly label: string;
  readonly profile?: string | undefined;
  readonly startUrl: string;
  readonly region: string;
  readonly signedIn: boolean;
  /** Who, as AWS names them (GetCallerIdentity through the profile), when signed in. */
  readonly who?: string | undefined;
  readonly expiresAt?: string | undefined;
  readonly renewable: boolean;
  readonly listeners: readonly string[];
  /** A sign-in in progress: the page to finish it on (and the device code). */
  readonly pending?: { readonly url: string; readonly userCode?: string | undefined; readonly browserOpened: boolean; readonly expiresAt: string } | undefined;
  readonly lastError?: string | undefined;
}

export interface StatusReport {
  readonly generatedAt: string;
  readonly signIns: readonly SignInStatus[];
  readonly listeners: ReadonlyArray<{ readonly name: string; readonly target: string; readonly profile?: string | undefined;
    readonly databaseUser: string; readonly openSessions: number }>;
  readonly credentials: ReadonlyArray<{ readonly identity: string; readonly expiresAt: string }>;
  readonly openSessions: number;
  readonly lastErrors: ReadonlyArray<{ readonly at: string; readonly listener: string; readonly code: string;
    readonly message: string; readonly hint?: string | undefined }>;
}

const WHO_TTL_MS = 30_000;

export class StatusReporter {
  private readonly who = new Map<string, { at: number; name: Promise<string | undefined> }>();

  constructor(private readonly proxy: RunningProxy, private readonly config: Config, private readonly env: NodeJS.ProcessEnv = process.env) {}

  /** The sign-ins of the config (the Sign in button's targets, by id). */
  signIns(): NamedSignIn[] {
    return signInsOf(this.config, this.env).signIns;
  }

  async report(): Promise<StatusReport> {
    const gate = this.proxy.signIn;
    const errors = new Map(gate.signIns().map((s) => [s.startUrl, s.lastError]));
    const signIns = await Promise.all(this.signIns().map(async (s, id): Promise<SignInStatus> => {
      const cached = await gate.provider.cached(s.target);
      const expiresAt = cached ? new Date(cached.expiresAt) : undefined;
      const signedIn = expiresAt !== undefined && (expiresAt.getTime() > Date.now() || cached?.refreshToken !== undefined);
      const pending = gate.provider.pending(s.target);
      return {
        id, label: s.label, profile: s.profile, startUrl: s.target.startUrl, region: s.target.region, signedIn,
        who: signedIn && s.profile ? await this.whoIs(s, cached?.accessToken ?? '') : undefined,
        expiresAt: expiresAt?.toISOString(), renewable: cached?.refreshToken !== undefined, listeners: s.listeners,
        pending: pending ? { url: pending.url, userCode: pending.userCode, browserOpened: pending.browserOpened,
          expiresAt: pending.expiresAt.toISOString() } : undefined,
        lastError: errors.get(s.target.startUrl),
      };
    }));
    const listeners = this.proxy.listeners.map((l, i) => {
      const t = this.config.listeners[i]?.target;
      const where = t?.upstreamHost ? `${t.upstreamHost}:${t.upstreamPort}` : '(discovered)';
      const what = t?.workgroup ? `workgroup ${t.workgroup}` : t?.clusterId ? `cluster ${t.clusterId}` : 'Redshift';
      const databaseUser = t?.idcIssuerUrl ? 'the IdC user (AWSIDC:…)' : t?.dbUserFromIdentity ? 'your AWS name (--db-user-from-identity)'
        : t?.withIam || t?.workgroup ? 'your IAM identity' : t?.dbUser ?? 'the name the tool sends';
      return { name: l.label, target: `${what} at ${where}`, profile: t?.profile, databaseUser, openSessions: l.activeConnections };
    });
    return {
      generatedAt: new Date().toISOString(),
      signIns,
      listeners,
      credentials: this.proxy.cache.expiries().map((e) => ({ identity: identityLabel(e.key), expiresAt: e.expiresAt.toISOString() })),
      openSessions: listeners.reduce((n, l) => n + l.openSessions, 0),
      lastErrors: this.proxy.recentErrors.list().map((e) => ({ at: e.at.toISOString(), listener: e.listener, code: e.code,
        message: e.message, hint: e.hint })),
    };
  }

  /** The signed-in person's name, asked of STS at most every 30 s per token (a new token is a new lookup). */
  private whoIs(s: NamedSignIn, token: string): Promise<string | undefined> {
    const key = `${s.profile ?? ''}\0${token}`;
    const known = this.who.get(key);
    if (known && Date.now() - known.at < WHO_TTL_MS) return known.name;
    const region = this.config.listeners.find((l) => l.target.profile === s.profile)?.target.region;
    const name = getCallerIdentity({ profile: s.profile, region, endpointUrl: s.endpointUrl })
      .then((me) => me.name ?? me.arn, () => undefined);
    // One entry per sign-in is all that is ever current: drop this profile's older tokens.
    for (const k of this.who.keys()) if (k.startsWith(`${s.profile ?? ''}\0`)) this.who.delete(k);
    this.who.set(key, { at: Date.now(), name });
    return name;
  }
}
