/**
 * Reads a V8 `.cpuprofile` (what `node --cpu-prof` writes at exit) and says where the time went: self time per
 * function, inclusive time per function (each sample counted once per function on its stack), and self time per
 * area (our code, Node internals, dependencies, GC, idle).
 */
import { readFile } from 'node:fs/promises';

interface CallFrame {
  readonly functionName: string;
  readonly url: string;
  readonly lineNumber: number;
}
interface ProfileNode {
  readonly id: number;
  readonly callFrame: CallFrame;
  readonly children?: readonly number[];
}
interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

export interface ProfileSummary {
  readonly totalMs: number;
  readonly busyMs: number;
  readonly self: ReadonlyArray<readonly [string, number]>;
  readonly inclusive: ReadonlyArray<readonly [string, number]>;
  readonly areas: ReadonlyArray<readonly [string, number]>;
}

export async function summarizeProfile(file: string): Promise<ProfileSummary> {
  const profile = JSON.parse(await readFile(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

  const self = new Map<string, number>();
  const inclusive = new Map<string, number>();
  const areas = new Map<string, number>();
  let totalMs = 0;
  profile.samples.forEach((id, i) => {
    const ms = (profile.timeDeltas[i] ?? 0) / 1000;
    totalMs += ms;
    const node = byId.get(id);
    if (!node) return;
    add(self, label(node.callFrame), ms);
    add(areas, area(node.callFrame), ms);
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const frame = byId.get(at)?.callFrame;
      if (!frame || frame.functionName === '(root)') continue;
      const key = label(frame);
      if (!seen.has(key)) add(inclusive, key, ms);
      seen.add(key);
    }
  });
  const idle = areas.get('idle') ?? 0;
  const sorted = (m: Map<string, number>): Array<[string, number]> => [...m].sort((a, b) => b[1] - a[1]);
  return { totalMs, busyMs: totalMs - idle, self: sorted(self), inclusive: sorted(inclusive), areas: sorted(areas) };
}

/** Text for the terminal: percentages of busy (non-idle) time. */
export function formatSummary(s: ProfileSummary, top = 25): string {
  const pct = (ms: number): string => `${((100 * ms) / s.busyMs).toFixed(1).padStart(5)}%`;
  const rows = (list: ReadonlyArray<readonly [string, number]>): string[] =>
    list.filter(([k]) => k !== '(idle)' && k !== 'idle').slice(0, top).map(([k, ms]) => `  ${pct(ms)} ${ms.toFixed(0).padStart(7)} ms  ${k}`);
  return [
    `profile: ${(s.totalMs / 1000).toFixed(1)} s sampled, ${(s.busyMs / 1000).toFixed(1)} s busy (percentages are of busy time)`,
    'by area (self):', ...rows(s.areas),
    `top ${top} by self time:`, ...rows(s.self),
    `top ${top} by inclusive time:`, ...rows(s.inclusive),
  ].join('\n');
}

function add(m: Map<string, number>, key: string, ms: number): void {
  m.set(key, (m.get(key) ?? 0) + ms);
}

function label(f: CallFrame): string {
  const name = f.functionName || '(anonymous)';
  if (!f.url) return name;
  const file = f.url.replace(/^file:\/\/.*?\/(dist\/|node_modules\/)/, '$1');
  return `${name} ${file}:${f.lineNumber + 1}`;
}

function area(f: CallFrame): string {
  if (f.functionName === '(idle)') return 'idle';
  if (f.functionName === '(garbage collector)') return 'gc';
  if (f.functionName === '(program)') return 'program (native, outside JS)';
  if (f.url.includes('/dist/src/')) return 'proxy (dist/src)';
  if (f.url.includes('/node_modules/')) return `dependency: ${/node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(f.url)?.[1] ?? '?'}`;
  if (f.url.startsWith('node:')) return `node: ${f.url.slice(5).split('/').slice(0, 2).join('/')}`;
  return f.url ? 'other' : 'native (builtins)';
}
