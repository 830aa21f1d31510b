/**
 * A Target with the listener-level settings of the config around it:
 * - the `users:` map — a local user name can have its own database user and groups. The database user goes into
 *   the credential request; other groups need another credential source, so such a user's requests are served by
 *   a Target of its own (created on first use, sharing the one credential cache: its cache key names the groups);
 * - a report of how long each upstream connection took to open, for metrics.
 * The proxy's listeners and the `check` and `creds` commands all use this class, so they resolve the same names.
 */
import type { TargetConfig } from '../config/config.js';
import type { CredentialCache } from '../credentials/credential-cache.js';
import type { CredentialRequest } from '../credentials/credential-source.js';
import type { SignInGate } from '../signin/sign-in-gate.js';
import type { UpstreamEndpoint } from '../upstream/upstream-endpoint.js';
import { Target } from './target.js';
import type { ResolvedLogin } from './target.js';

export class ConfiguredTarget extends Target {
  /** Targets of local users whose dbGroups differ from the target's, by local user name. */
  private readonly byUser = new Map<string, Target>();
  /** Which of those serves a request built by requestFor (requests are fresh objects, so a WeakMap suffices). */
  private readonly routes = new WeakMap<CredentialRequest, Target>();

  constructor(private readonly settings: TargetConfig, private readonly sharedCache: CredentialCache,
    private readonly timeoutMs: number, private readonly onConnected?: (ms: number) => void, signIn?: SignInGate) {
    super(settings, sharedCache, timeoutMs, signIn);
  }

  override requestFor(clientUser: string, database: string): CredentialRequest {
    const base = super.requestFor(clientUser, database);
    const mapping = this.settings.users?.[clientUser];
    if (!mapping) return base;
    const request: CredentialRequest = { ...base, dbUser: mapping.dbUser ?? base.dbUser };
    if (mapping.dbGroups) this.routes.set(request, this.targetFor(clientUser, mapping.dbGroups));
    return request;
  }

  override resolve(request: CredentialRequest, signal?: AbortSignal): Promise<ResolvedLogin> {
    const other = this.routes.get(request);
    return other ? other.resolve(request, signal) : super.resolve(request, signal);
  }

  override async endpoint(): Promise<UpstreamEndpoint> {
    const endpoint = await super.endpoint();
    return this.onConnected ? { ...endpoint, onConnected: this.onConnected } : endpoint;
  }

  private targetFor(clientUser: string, dbGroups: string[]): Target {
    let t = this.byUser.get(clientUser);
    if (!t) {
      t = new Target({ ...this.settings, dbGroups, users: undefined }, this.sharedCache, this.timeoutMs, this.signIn);
      this.byUser.set(clientUser, t);
    }
    return t;
  }
}
