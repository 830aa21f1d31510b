/**
 * Memory per idle session as the operating system sees it: the middle process's VmRSS (/proc/<pid>/status) and its
 * Rss and Pss (/proc/<pid>/smaps_rollup) with no session open and with `count` sessions open, each logged in with its
 * own upstream (one `select 1`, then silent), divided by `count`. Beside them, where the resident memory went
 * (/proc/<pid>/smaps: glibc's main malloc arena `[heap]`, other anonymous mappings — V8's heap pages, other malloc
 * arenas, large allocations — and files), and for the proxy its JS heap in use after a full collection, with and
 * without the sessions. Measured on a process that has done little else: RSS that earlier work left resident and
 * free absorbs new sessions without growing, which is the "after other work" slope of workloads.ts.
 */
import { readFile } from 'node:fs/promises';
import type { MemoryAfterGc } from './proxy-process.js';
import { openSession } from './wire-client.js';
import type { WireSession } from './wire-client.js';
import { median } from './workloads.js';
import type { BenchPath } from './workloads.js';

/** KiB figures of one process at one moment. */
export interface OsMemory {
  readonly vmRss: number;
  readonly rss: number;
  readonly pss: number;
  /** Resident KiB of the `[heap]` mapping (brk: glibc's main malloc arena). */
  readonly brkHeap: number;
  /** Resident KiB of anonymous mappings other than `[heap]` and the stack (V8's pages, mmap'd malloc arenas and chunks). */
  readonly anonMmap: number;
}

export const OS_FIELDS = ['vmRss', 'rss', 'pss', 'brkHeap', 'anonMmap'] as const;

export async function readOsMemory(pid: number): Promise<OsMemory> {
  const [status, rollup, smaps] = await Promise.all([`status`, `smaps_rollup`, `smaps`].map((f) => readFile(`/proc/${pid}/${f}`, 'utf8')));
  const field = (text: string | undefined, name: string): number => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(text ?? '')?.[1] ?? Number.NaN);
  let brkHeap = 0;
  let anonMmap = 0;
  let mapping = '';
  for (const line of (smaps ?? '').split('\n')) {
    const head = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \d+\s*(.*)$/.exec(line);
    if (head) {
      mapping = head[1] ?? '';
      continue;
    }
    const rss = /^Rss:\s+(\d+) kB/.exec(line);
    if (!rss) continue;
    if (mapping === '[heap]') brkHeap += Number(rss[1]);
    else if (mapping === '') anonMmap += Number(rss[1]);
  }
  return { vmRss: field(status, 'VmRSS'), rss: field(rollup, 'Rss'), pss: field(rollup, 'Pss'), brkHeap, anonMmap };
}

/** The median of each field over five samples 300 ms apart (a collected heap moves RSS between samples). */
export async function steadyOsMemory(pid: number): Promise<OsMemory> {
  const samples: OsMemory[] = [];
  for (let i = 0; i < 5; i++) {
    if (i > 0) await new Promise((r) => setTimeout(r, 300));
    samples.push(await readOsMemory(pid));
  }
  return Object.fromEntries(OS_FIELDS.map((f) => [f, median(samples.map((s) => s[f]))])) as unknown as OsMemory;
}

export interface SessionMemory {
  readonly sessions: number;
  readonly none: OsMemory;
  readonly held: OsMemory;
  /** (held − none) ÷ sessions, KiB, per field. */
  readonly perSession: OsMemory;
  /** VmRSS KiB per session from a fifth of them held to all: without what the first logins paid once. */
  readonly marginalVmRssKb: number;
  /** A Node process's JS heap in use after a full collection, KiB per session: (with sessions − before) ÷ sessions. */
  readonly heapPerSessionKb?: number | undefined;
  /** The same for Node's `external` memory (Buffers and other memory V8 objects hold outside the JS heap). */
  readonly externalPerSessionKb?: number | undefined;
  /** The same for RSS, each read right after a collection: what garbage not yet collected added is left out. */
  readonly rssAfterGcPerSessionKb?: number | undefined;
}

/**
 * Opens `count` idle sessions through `p` (`concurrency` logins at a time), samples the OS figures before and while
 * they are held, and closes them. With `afterGc` (a Node process's heap reporter), also the JS heap after a
 * collection before they open and while they are held; the collection while they are held comes after the OS
 * samples, so it does not make the OS figures look better than a user would see them.
 */
export async function sessionMemory(p: BenchPath, count: number, afterGc?: () => Promise<MemoryAfterGc>,
  concurrency = 20): Promise<SessionMemory> {
  const pid = p.pid;
  if (!pid) throw new Error(`${p.name} has no process to measure`);
  const noneGc = afterGc ? await afterGc() : undefined;
  const none = await steadyOsMemory(pid);
  const sessions: WireSession[] = [];
  let heldGc: MemoryAfterGc | undefined;
  let held: OsMemory;
  let opened = 0;
  let fifth: OsMemory | undefined;
  try {
    const openUntil = (target: number): Promise<unknown> => Promise.all(Array.from({ length: concurrency }, async () => {
      while (opened < target) {
        opened++;
        sessions.push(await openSession(p.wire, { timeoutMs: 60_000, query: 'select 1' }));
      }
    }));
    // A fifth first: what the rest add is the marginal cost, without what the first logins paid once (code, V8's
    // young generation growing to its working size).
    await openUntil(Math.round(count / 5));
    await new Promise((r) => setTimeout(r, 500));
    fifth = await steadyOsMemory(pid);
    await openUntil(count);
    // Let the event loop settle (timers, TLS buffers) before sampling, as a user's idle dashboard would.
    await new Promise((r) => setTimeout(r, 1_000));
    held = await steadyOsMemory(pid);
    heldGc = afterGc ? await afterGc() : undefined;
  } finally {
    for (const s of sessions) s.close();
    await new Promise((r) => setTimeout(r, 1_500));
  }
  const n = sessions.length;
  const perSession = Object.fromEntries(OS_FIELDS.map((f) => [f, (held[f] - none[f]) / n])) as unknown as OsMemory;
  const atFifth = fifth as OsMemory;
  const marginalVmRssKb = (held.vmRss - atFifth.vmRss) / (n - Math.round(count / 5));
  if (!noneGc || !heldGc) return { sessions: n, none, held, perSession, marginalVmRssKb };
  const per = (a: number | undefined, b: number | undefined): number | undefined =>
    (a === undefined || b === undefined ? undefined : ((a - b) * 1024) / n);
  return { sessions: n, none, held, perSession, marginalVmRssKb, heapPerSessionKb: per(heldGc.heapUsedMb, noneGc.heapUsedMb),
    externalPerSessionKb: per(heldGc.externalMb, noneGc.externalMb), rssAfterGcPerSessionKb: per(heldGc.rssMb, noneGc.rssMb) };
}

/** One line: "VmRSS 63.1, Rss 63.0, Pss 62.5 KB per session ([heap] 40.2, other anonymous 22.8); JS heap 10.7". */
export function describeSessionMemory(m: SessionMemory): string {
  const k = (v: number | undefined): string => (v === undefined ? '–' : v.toFixed(1));
  const ps = m.perSession;
  return `VmRSS ${k(ps.vmRss)}, Rss ${k(ps.rss)}, Pss ${k(ps.pss)} KB per session (of which brk [heap] ${k(ps.brkHeap)}, ` +
    `other anonymous ${k(ps.anonMmap)}; from a fifth to all ${k(m.marginalVmRssKb)}); ${(m.none.vmRss / 1024).toFixed(1)} MB with none, ${(m.held.vmRss / 1024).toFixed(1)} MB with ${m.sessions}` +
    (m.heapPerSessionKb === undefined ? '' : `; after GC: JS heap ${k(m.heapPerSessionKb)}, external ${k(m.externalPerSessionKb)}, RSS ${k(m.rssAfterGcPerSessionKb)} KB per session`);
}
