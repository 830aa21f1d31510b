/**
 * Results: samples per metric and path, reduced to medians over rounds; printed as a table plus one `name=value`
 * line each, checked against the targets of issue 8, and written into docs/PERFORMANCE.md between markers.
 */
import { readFile, writeFile } from 'node:fs/promises';
import type { GoRelayBuild } from './relays.js';
import type { Machine } from './system.js';
import { median } from './workloads.js';

export const PATHS = ['direct', 'pgbouncer', 'node_relay', 'go_relay', 'proxy', 'proxy_warm'] as const;
export type PathName = (typeof PATHS)[number];
/** What the proxy is divided by in the ratio columns. */
const BASES = ['direct', 'pgbouncer', 'node_relay'] as const satisfies readonly PathName[];
type Base = (typeof BASES)[number];
const LABELS: Record<PathName, string> = { direct: 'direct TLS', pgbouncer: 'pgbouncer', node_relay: 'bare Node relay',
  go_relay: 'bare Go relay', proxy: 'proxy', proxy_warm: 'proxy --warm' };
/** Rates and latencies compare with every base; middle-process CPU with the middles (direct has none). */
const THROUGHPUT: readonly Base[] = BASES;
const CPU: readonly Base[] = ['pgbouncer', 'node_relay'];

interface MetricSpec {
  readonly key: string;
  readonly label: string;
  readonly digits: number;
  /** The bases whose proxy ÷ base ratio means anything for this row. */
  readonly ratios: readonly Base[];
}

export const METRICS: readonly MetricSpec[] = [
  { key: 'select_tps', label: 'select tps (pgbench -S -M extended -c 8 -j 2)', digits: 0, ratios: THROUGHPUT },
  { key: 'select_cpu_pct', label: 'middle process CPU during select, % of a core', digits: 0, ratios: [] },
  { key: 'select_cpu_us_per_txn', label: 'middle CPU µs per select transaction', digits: 0, ratios: CPU },
  { key: 'connrate_tps', label: 'connection rate tps (pgbench -S -C -c 8 -j 2)', digits: 0, ratios: THROUGHPUT },
  { key: 'connrate_cpu_ms_per_conn', label: 'middle CPU ms per connection (connection rate)', digits: 2, ratios: CPU },
  { key: 'connect_p50_ms', label: 'connect latency p50, ms (200 sequential)', digits: 2, ratios: THROUGHPUT },
  { key: 'connect_p99_ms', label: 'connect latency p99, ms', digits: 2, ratios: THROUGHPUT },
  { key: 'copy_out_mbps', label: '\\copy out, MB/s', digits: 0, ratios: THROUGHPUT },
  { key: 'copy_in_mbps', label: '\\copy in, MB/s', digits: 0, ratios: THROUGHPUT },
  { key: 'copy_out_cpu_s_per_gb', label: 'middle CPU s per GB, copy out', digits: 2, ratios: CPU },
  { key: 'copy_in_cpu_s_per_gb', label: 'middle CPU s per GB, copy in', digits: 2, ratios: CPU },
  { key: 'rss_idle_mb', label: 'middle RSS with no sessions, MB', digits: 1, ratios: [] },
  { key: 'rss_after_gc_mb', label: 'proxy RSS right after a full GC (each round start, and at the end), MB', digits: 1, ratios: [] },
  { key: 'heap_after_gc_mb', label: 'proxy JS heap still in use after that GC, MB', digits: 1, ratios: [] },
  { key: 'os_rss_per_session_kb', label: 'VmRSS per idle session as the OS sees it, KB (fresh process: with 500 held − with none, ÷ 500)', digits: 1, ratios: [] },
  { key: 'os_pss_per_session_kb', label: 'Pss per idle session (smaps_rollup), KB, same way', digits: 1, ratios: [] },
  { key: 'heap_per_session_kb', label: 'proxy JS heap per idle session after a full GC, KB', digits: 1, ratios: [] },
  { key: 'rss_per_session_kb', label: 'proxy RSS per idle session after other work, KB (slope; memory freed earlier absorbs it)', digits: 1, ratios: [] },
];

export class Samples {
  private readonly values = new Map<string, number[]>();

  add(metric: string, path: string, value: number | undefined): void {
    if (value === undefined || !Number.isFinite(value)) return;
    const key = `${metric}:${path}`;
    this.values.set(key, [...(this.values.get(key) ?? []), value]);
  }

  get(metric: string, path: string): number | undefined {
    const all = this.values.get(`${metric}:${path}`);
    return all && all.length > 0 ? median(all) : undefined;
  }

  all(metric: string, path: string): readonly number[] {
    return this.values.get(`${metric}:${path}`) ?? [];
  }
}

export interface RunInfo {
  readonly command: string;
  readonly machine: Machine;
  readonly settings: string;
  /** `--warm N` when the proxy has it; undefined prints "n/a (not implemented)". */
  readonly warm: number | undefined;
  readonly date: Date;
  /** The proxy's source: `git describe --always --dirty`. */
  readonly source: string;
  /** The Go relay's toolchain, or why the Go relay column is empty. */
  readonly goRelay: GoRelayBuild;
}

const NOT_IMPLEMENTED = 'n/a (not implemented)';
const NO_GO = 'n/a (no Go)';

export function fmt(value: number | undefined, digits: number): string {
  return value === undefined ? '–' : value.toFixed(digits);
}

/**
 * proxy ÷ base: the median of per-round ratios when both were measured every round (each round's paths ran
 * side by side, so what else the machine was doing then cancels out), else the ratio of the medians.
 */
export function ratio(s: Samples, metric: string, path: string, base: string): number | undefined {
  const a = s.all(metric, path);
  const b = s.all(metric, base);
  if (a.length === 0 || b.length === 0) return undefined;
  if (a.length === b.length) {
    const perRound = a.map((x, i) => x / (b[i] as number)).filter(Number.isFinite);
    return perRound.length > 0 ? median(perRound) : undefined;
  }
  const ma = s.get(metric, path);
  const mb = s.get(metric, base);
  return ma === undefined || mb === undefined || mb === 0 ? undefined : ma / mb;
}

function cell(s: Samples, info: RunInfo, m: MetricSpec, path: PathName): string {
  if (path === 'proxy_warm' && info.warm === undefined) return NOT_IMPLEMENTED;
  if (path === 'go_relay' && 'missing' in info.goRelay) return NO_GO;
  return fmt(s.get(m.key, path), m.digits);
}

/** The markdown table: one row per metric, a column per path, then proxy ÷ direct, ÷ pgbouncer, ÷ bare Node relay. */
export function table(s: Samples, info: RunInfo): string {
  const label = (p: PathName): string => (p === 'proxy_warm' && info.warm !== undefined ? `${LABELS[p]} ${info.warm}` : LABELS[p]);
  const head = ['metric (median of rounds; ratios: median of per-round ratios)', ...PATHS.map(label),
    ...BASES.map((b) => `proxy ÷ ${LABELS[b].replace(' TLS', '')}`)];
  const rows = METRICS.map((m) => [m.label, ...PATHS.map((p) => cell(s, info, m, p)),
    ...BASES.map((b) => (m.ratios.includes(b) ? fmt(ratio(s, m.key, 'proxy', b), 2) : ''))]);
  const line = (cells: readonly string[]): string => `| ${cells.join(' | ')} |`;
  return [line(head), line(head.map(() => '---')), ...rows.map(line)].join('\n');
}

/** `name=value` lines: every median, then the ratios (the proxy's, and the warm proxy's when it exists). */
export function nameValues(s: Samples, info: RunInfo): string[] {
  const out: string[] = [];
  for (const m of METRICS) {
    for (const p of PATHS) {
      if (p === 'proxy_warm' && info.warm === undefined) out.push(`${m.key}_${p}=n/a`);
      else if (p === 'go_relay' && 'missing' in info.goRelay) {
        if (s.get(m.key, 'node_relay') !== undefined) out.push(`${m.key}_${p}=n/a`);
      }
      else if (s.get(m.key, p) !== undefined) out.push(`${m.key}_${p}=${fmt(s.get(m.key, p), m.digits)}`);
    }
  }
  for (const m of METRICS) {
    for (const base of m.ratios) {
      out.push(`${m.key}_ratio_vs_${base}=${fmt(ratio(s, m.key, 'proxy', base), 2)}`);
      const warm = ratio(s, m.key, 'proxy_warm', base);
      if (info.warm === undefined) out.push(`${m.key}_warm_ratio_vs_${base}=n/a`);
      else if (warm !== undefined) out.push(`${m.key}_warm_ratio_vs_${base}=${fmt(warm, 2)}`);
    }
    // Every floor beside direct, for the rates.
    if (!m.ratios.includes('direct')) continue;
    for (const p of ['pgbouncer', 'node_relay', 'go_relay'] as const) {
      const r = ratio(s, m.key, p, 'direct');
      if (r !== undefined) out.push(`${m.key}_${p}_ratio_vs_direct=${fmt(r, 2)}`);
    }
  }
  return out;
}

/** The middles from the least work to the most: the floors under the proxy. */
const MIDDLES = ['pgbouncer', 'go_relay', 'node_relay', 'proxy'] as const satisfies readonly PathName[];
const FLOOR_CPU = [['select_cpu_us_per_txn', 'per select transaction', 'µs'], ['connrate_cpu_ms_per_conn', 'per connection', 'ms'],
  ['copy_out_cpu_s_per_gb', 'per GB of \\copy out', 's'], ['copy_in_cpu_s_per_gb', 'per GB of \\copy in', 's']] as const;
const FLOOR_RATES = [['select_tps', 'select tps'], ['connrate_tps', 'connection rate'], ['copy_out_mbps', '\\copy out MB/s'],
  ['copy_in_mbps', '\\copy in MB/s']] as const;

/**
 * The floors (issue 20): each middle process's CPU per unit of work, from the least a middle can do to the proxy,
 * and each path's rates beside direct, all from the same run and load.
 */
export function floors(s: Samples, info: RunInfo): string[] {
  const go = 'missing' in info.goRelay ? `bare Go relay: ${info.goRelay.missing}` : `bare Go relay built with ${info.goRelay.go}`;
  const value = (metric: string, p: PathName, digits: number, unit: string): string =>
    (p === 'go_relay' && 'missing' in info.goRelay ? `${LABELS[p]} n/a` : `${LABELS[p]} ${fmt(s.get(metric, p), digits)}${unit}`);
  const times = (metric: string, a: PathName, b: PathName): string => `${LABELS[a]} ÷ ${LABELS[b]} ${fmt(ratio(s, metric, a, b), 2)}×`;
  const digitsOf = (metric: string): number => METRICS.find((m) => m.key === metric)?.digits ?? 2;
  return [
    `Floors: middle-process CPU (utime + stime from /proc/<pid>/stat), medians of rounds; ${go}.`,
    '',
    ...FLOOR_CPU.map(([metric, what, unit]) => `- CPU ${what}: ${MIDDLES.map((p) => value(metric, p, digitsOf(metric), ` ${unit}`)).join(', ')}; ` +
      `${times(metric, 'proxy', 'node_relay')}${'missing' in info.goRelay ? '' : `, ${times(metric, 'node_relay', 'go_relay')}`}`),
    ...FLOOR_RATES.map(([metric, what]) => `- ${what} ÷ direct: ${MIDDLES.map((p) => (p === 'go_relay' && 'missing' in info.goRelay
      ? `${LABELS[p]} n/a` : `${LABELS[p]} ${fmt(ratio(s, metric, p, 'direct'), 2)}`)).join(', ')}; ${times(metric, 'proxy', 'node_relay')}`),
  ];
}

/** Issue 8's targets, each with what was measured. */
export function targets(s: Samples, info: RunInfo): string[] {
  const check = (label: string, ok: boolean | undefined, measured: string): string =>
    `- ${ok === undefined ? '–' : ok ? 'met' : 'NOT met'}: ${label} (measured ${measured})`;
  const r = (metric: string, path: string, base: string): number | undefined => ratio(s, metric, path, base);
  const ge = (v: number | undefined, min: number): boolean | undefined => (v === undefined ? undefined : v >= min);
  const le = (v: number | undefined, max: number): boolean | undefined => (v === undefined ? undefined : v <= max);
  const warm = info.warm !== undefined;
  return [
    check('select tps ≥ pgbouncer', ge(r('select_tps', 'proxy', 'pgbouncer'), 1), `${fmt(r('select_tps', 'proxy', 'pgbouncer'), 2)}×`),
    check('select tps ≥ 0.80 × direct', ge(r('select_tps', 'proxy', 'direct'), 0.8), `${fmt(r('select_tps', 'proxy', 'direct'), 2)}×`),
    check('copy out ≥ 0.95 × direct', ge(r('copy_out_mbps', 'proxy', 'direct'), 0.95), `${fmt(r('copy_out_mbps', 'proxy', 'direct'), 2)}×`),
    check('copy in ≥ 0.95 × direct', ge(r('copy_in_mbps', 'proxy', 'direct'), 0.95), `${fmt(r('copy_in_mbps', 'proxy', 'direct'), 2)}×`),
    check('connect p50 ≤ direct (cold pool)', le(r('connect_p50_ms', 'proxy', 'direct'), 1), `${fmt(r('connect_p50_ms', 'proxy', 'direct'), 2)}×`),
    check('connect p50 ≤ 2 ms with --warm', warm ? le(s.get('connect_p50_ms', 'proxy_warm'), 2) : undefined,
      warm ? `${fmt(s.get('connect_p50_ms', 'proxy_warm'), 2)} ms` : NOT_IMPLEMENTED),
    check('connection rate ≥ direct', ge(r('connrate_tps', 'proxy', 'direct'), 1), `${fmt(r('connrate_tps', 'proxy', 'direct'), 2)}×`),
    check('connection rate ≥ 0.5 × pgbouncer with --warm', warm ? ge(r('connrate_tps', 'proxy_warm', 'pgbouncer'), 0.5) : undefined,
      warm ? `${fmt(r('connrate_tps', 'proxy_warm', 'pgbouncer'), 2)}×` : NOT_IMPLEMENTED),
    check('RSS ≤ 64 KB per idle session (as the OS sees it, fresh process)', le(s.get('os_rss_per_session_kb', 'proxy'), 64),
      `${fmt(s.get('os_rss_per_session_kb', 'proxy'), 1)} KB; pgbouncer ${fmt(s.get('os_rss_per_session_kb', 'pgbouncer'), 1)}, ` +
      `bare Node relay ${fmt(s.get('os_rss_per_session_kb', 'node_relay'), 1)} KB; after other work ${fmt(s.get('rss_per_session_kb', 'proxy'), 1)} KB`),
    check('no growth across repeated runs: after a full GC, RSS and JS heap at the end within 10% of round 2\'s (round 1 warms up)',
      both(noGrowth(s.all('rss_after_gc_mb', 'proxy')), noGrowth(s.all('heap_after_gc_mb', 'proxy'))),
      `after GC at each round's start and at the end: RSS ${series(s.all('rss_after_gc_mb', 'proxy'))} MB, ` +
      `JS heap ${series(s.all('heap_after_gc_mb', 'proxy'))} MB; idle RSS without a GC ${series(s.all('rss_idle_mb', 'proxy'))} MB`),
  ];
}

const series = (values: readonly number[]): string => values.map((v) => v.toFixed(1)).join(', ');

/**
 * Memory that grows with every repetition of the same work is a leak; the first round is not a repetition (the JIT,
 * pools, and the allocator's first high-water mark). Judged on figures taken right after a full collection, so that
 * garbage not yet collected does not count. Needs three samples: round 2's start and a later one.
 */
function noGrowth(values: readonly number[]): boolean | undefined {
  const base = values[1];
  const last = values.at(-1);
  return values.length < 3 || base === undefined || last === undefined ? undefined : last <= base * 1.1;
}

const both = (a: boolean | undefined, b: boolean | undefined): boolean | undefined =>
  (a === undefined || b === undefined ? undefined : a && b);

const BEGIN = '<!-- bench:begin (written by `npm run bench`; edit the text outside the markers) -->';
const END = '<!-- bench:end -->';

/** Replaces the generated section of docs/PERFORMANCE.md (appends one when the markers are missing). */
export async function writePerformanceDoc(file: string, s: Samples, info: RunInfo): Promise<void> {
  const m = info.machine;
  const section = [
    BEGIN,
    `Run of ${info.date.toISOString().slice(0, 16).replace('T', ' ')} UTC — \`${info.command}\` — proxy source ${info.source}`,
    '',
    `Machine: ${m.cpus} CPUs (${m.cpuModel}), ${m.memoryGb} GB RAM, ${m.kernel}; Node ${m.node}; ` +
      `PostgreSQL ${m.postgres}; ${m.pgbouncer}. ${info.settings}`,
    '',
    table(s, info),
    '',
    '"–": not measured on that path (the `--warm` proxy runs the select, connection-rate and connect workloads only; ' +
      'the bare relays have no memory test).',
    '',
    ...floors(s, info),
    '',
    'Targets (issue 8):',
    '',
    ...targets(s, info),
    '',
    '<details><summary>name=value lines</summary>',
    '',
    '```',
    ...nameValues(s, info),
    '```',
    '',
    '</details>',
    END,
  ].join('\n');
  const current = await readFile(file, 'utf8').catch(() => `# Performance\n\n${BEGIN}\n${END}\n`);
  const start = current.indexOf(BEGIN);
  const end = current.indexOf(END);
  const next = start >= 0 && end > start
    ? current.slice(0, start) + section + current.slice(end + END.length)
    : `${current.trimEnd()}\n\n${section}\n`;
  await writeFile(file, next);
}
