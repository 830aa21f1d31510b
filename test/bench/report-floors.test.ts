/**
 * The bench report's floors (issue 20): a column for each bare relay, proxy ÷ bare Node relay beside the other
 * ratios, CPU ratios between middles only, and a machine without Go reading "n/a (no Go)" instead of failing.
 */
import { describe, expect, it } from 'vitest';
import { floors, nameValues, Samples, table } from '../../scripts/bench/report.js';
import type { RunInfo } from '../../scripts/bench/report.js';
import type { GoRelayBuild } from '../../scripts/bench/relays.js';

function run(goRelay: GoRelayBuild): { s: Samples; info: RunInfo } {
  const s = new Samples();
  for (const [path, tps, us] of [['direct', 100, undefined], ['pgbouncer', 90, 20], ['node_relay', 80, 30],
    ['go_relay', 85, 25], ['proxy', 60, 45]] as const) {
    s.add('select_tps', path, tps);
    s.add('select_cpu_us_per_txn', path, us);
  }
  const info: RunInfo = { command: 'npm run bench', settings: '', warm: undefined, date: new Date(0), source: 'test', goRelay,
    machine: { cpus: 2, cpuModel: 'x', memoryGb: 1, node: 'v20', kernel: 'Linux', postgres: '15', pgbouncer: 'PgBouncer' } };
  return { s, info };
}

const row = (text: string, start: string): string[] =>
  (text.split('\n').find((l) => l.startsWith(`| ${start}`)) ?? '').split(' | ').map((c) => c.replace(/^\| | \|$/g, ''));

describe('bench report floors', () => {
  it('puts both bare relays beside the proxy and divides the proxy by the bare Node relay', () => {
    const { s, info } = run({ binary: '/tmp/go-relay', go: 'go1.19.8' });
    const t = table(s, info);
    expect(row(t, 'metric')).toEqual(expect.arrayContaining(['bare Node relay', 'bare Go relay', 'proxy ÷ bare Node relay']));
    // direct, pgbouncer, Node, Go, proxy, warm; then ÷ direct, ÷ pgbouncer, ÷ Node relay.
    expect(row(t, 'select tps').slice(1)).toEqual(['100', '90', '80', '85', '60', 'n/a (not implemented)', '0.60', '0.67', '0.75']);
    expect(row(t, 'middle CPU µs').slice(1)).toEqual(['–', '20', '30', '25', '45', 'n/a (not implemented)', '', '2.25', '1.50']);
    const f = floors(s, info).join('\n');
    expect(f).toContain('go1.19.8');
    expect(f).toContain('CPU per select transaction: pgbouncer 20 µs, bare Go relay 25 µs, bare Node relay 30 µs, proxy 45 µs; ' +
      'proxy ÷ bare Node relay 1.50×, bare Node relay ÷ bare Go relay 1.20×');
    expect(f).toContain('select tps ÷ direct: pgbouncer 0.90, bare Go relay 0.85, bare Node relay 0.80, proxy 0.60');
    expect(nameValues(s, info)).toEqual(expect.arrayContaining(['select_cpu_us_per_txn_ratio_vs_node_relay=1.50',
      'select_tps_go_relay_ratio_vs_direct=0.85']));
  });

  it('says why there is no Go relay and reports the other paths', () => {
    const { s, info } = run({ missing: 'no Go toolchain (apt-get failed)' });
    expect(row(table(s, info), 'select tps')[4]).toBe('n/a (no Go)');
    const f = floors(s, info).join('\n');
    expect(f).toContain('bare Go relay: no Go toolchain (apt-get failed)');
    expect(f).toContain('bare Node relay 30 µs, proxy 45 µs; proxy ÷ bare Node relay 1.50×\n');
    expect(nameValues(s, info)).toContain('select_tps_go_relay=n/a');
  });
});
