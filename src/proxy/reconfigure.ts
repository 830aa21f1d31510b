/**
 * Reload: a new Config applied to the running proxy. Listeners are matched by where they bind (bindKey): a key
 * only in the new Config is added, one only in the old is removed (it stops accepting at once; its sessions have
 * the shutdown grace, then get 57P01), one in both is changed when any of its settings or a global one differs. A
 * changed listener keeps its socket; its new sessions get the new SessionDeps, open sessions keep the ones they
 * started with. The credential cache is shared, so identities whose settings did not change keep their cached
 * credentials.
 *
 * Everything that can fail is done first — targets built (CA and client files read), new listeners bound — and
 * undone when any of it fails: then the outcome lists every problem and nothing changed.
 */
import { isDeepStrictEqual } from 'node:util';
import type { Config } from '../config/config.js';
import { Listener } from './listener.js';
import { bindKey, buildSlot } from './listener-slot.js';
import type { ListenerSlot, SharedParts } from './listener-slot.js';

export interface RunningEntry {
  slot: ListenerSlot;
  listener: Listener;
}

/** The proxy's mutable state, owned by proxy.ts. */
export interface Running {
  config: Config;
  entries: RunningEntry[];
  /** Closes of removed listeners still letting their sessions finish. */
  readonly draining: Set<Promise<void>>;
}

export type ReloadOutcome =
  | { readonly ok: true; readonly added: readonly string[]; readonly removed: readonly string[];
    readonly changed: readonly string[]; readonly unchanged: readonly string[]; readonly warnings: readonly string[] }
  | { readonly ok: false; readonly problems: readonly string[] };

/** Settings read once at start; a reload that changes them says so instead of pretending. */
const RESTART_ONLY = ['httpListen', 'httpTokenFile', 'logLevel', 'logFormat', 'lazyRefresh', 'exitZeroOnSigterm',
  'maxUpstreamConnections'] as const;

/** Global settings every session's deps are built from: when one changes, every listener is changed. */
function sessionGlobals(c: Config): unknown[] {
  return [c.startupTimeoutMs, c.connectTimeoutMs, c.maxStartupPacket, c.idleReleaseMs, c.heal, c.warm, c.warmTotal, c.warmIdleMs];
}

const message = (err: unknown): string => (err instanceof Error ? err.message : String(err));

export async function applyConfig(state: Running, next: Config, shared: SharedParts, graceMs: number): Promise<ReloadOutcome> {
  const current = new Map(state.entries.map((e) => [bindKey(e.slot.config), e]));
  const globalsChanged = !isDeepStrictEqual(sessionGlobals(state.config), sessionGlobals(next));
  const problems: string[] = [];
  const planned: Array<{ readonly key: string; readonly kind: 'added' | 'changed' | 'unchanged'; readonly slot: ListenerSlot;
    readonly listener?: Listener }> = [];
  for (const l of next.listeners) {
    const key = bindKey(l);
    const old = l.port === 0 && l.unixSocket === undefined ? undefined : current.get(key);
    if (old && !globalsChanged && isDeepStrictEqual(old.slot.config, l)) {
      planned.push({ key, kind: 'unchanged', slot: old.slot, listener: old.listener });
      continue;
    }
    try {
      const slot = buildSlot(l, next, shared);
      planned.push({ key, kind: old ? 'changed' : 'added', slot, listener: old?.listener });
    } catch (err) {
      problems.push(`listener ${l.name ?? key}: ${message(err)}`);
    }
  }
  const bound: Listener[] = [];
  if (problems.length === 0) {
    for (const p of planned.filter((x) => x.kind === 'added')) {
      const l = new Listener(p.slot.config.unixSocket !== undefined ? { path: p.slot.config.unixSocket } : p.slot.config,
        p.slot.deps, shared.log, p.slot.options);
      try {
        await l.listen();
        bound.push(l);
        Object.assign(p, { listener: l });
      } catch (err) {
        problems.push(`listener ${p.slot.config.name ?? p.key}: cannot listen: ${message(err)}`);
      }
    }
  }
  if (problems.length > 0) {
    for (const p of planned) if (p.kind !== 'unchanged') p.slot.pool?.shutdown();
    await Promise.all(bound.map((l) => l.close()));
    return { ok: false, problems };
  }
  // Commit: from here nothing fails.
  const keep = new Set(planned.map((p) => p.key));
  const removed = state.entries.filter((e) => !keep.has(bindKey(e.slot.config)) || (e.slot.config.port === 0 && e.slot.config.unixSocket === undefined
    && !planned.some((p) => p.listener === e.listener)));
  for (const p of planned) {
    if (p.kind !== 'changed' || !p.listener) continue;
    const old = current.get(p.key);
    p.listener.reconfigure(p.slot.deps, p.slot.options);
    old?.slot.pool?.shutdown();
  }
  shared.budget.limit = next.maxConnections;
  for (const e of removed) {
    e.slot.pool?.shutdown();
    const closing = e.listener.close(graceMs).finally(() => state.draining.delete(closing));
    state.draining.add(closing);
  }
  state.entries = planned.map((p) => ({ slot: p.slot, listener: p.listener as Listener }));
  const warnings = RESTART_ONLY.filter((k) => !isDeepStrictEqual(state.config[k], next[k]))
    .map((k) => `${k} changed: it takes effect at the next restart`);
  state.config = next;
  const labels = (kind: string): string[] => planned.filter((p) => p.kind === kind).map((p) => p.listener?.label ?? p.key);
  return { ok: true, added: labels('added'), removed: removed.map((e) => e.listener.label), changed: labels('changed'),
    unchanged: labels('unchanged'), warnings };
}
