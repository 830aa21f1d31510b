/**
 * The settings issue 19 adds, through the real flag parser and the real file loader: --exit-zero-on-sigterm,
 * --lazy-refresh and --custom-domain, their file keys, and the rules between them.
 */
import { describe, expect, it } from 'vitest';
import { buildParser } from '../../src/cli.js';
import type { Flags } from '../../src/config/from-flags.js';
import { parseConfigFile } from '../../src/config/load-file.js';
import { findProblems } from '../../src/config/validate-config.js';
import { resolveConfig } from '../../src/config/resolve-config.js';

async function resolve(argv: string[]) {
  return resolveConfig((await buildParser(argv).parseAsync()) as Flags);
}

describe('lifecycle settings', () => {
  it('flags fill the Config', async () => {
    const r = await resolve(['--upstream', 'warehouse.example.com', '--lazy-refresh', '--exit-zero-on-sigterm',
      '--custom-domain', 'warehouse.example.com']);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.config).toMatchObject({ lazyRefresh: true, exitZeroOnSigterm: true });
    expect(r.config.listeners[0]?.target.customDomain).toBe('warehouse.example.com');
  });

  it('file keys fill the same fields', () => {
    const { config } = parseConfigFile(`lazyRefresh: true
exitZeroOnSigterm: true
listeners:
  - target: { upstream: 10.0.0.5, customDomain: warehouse.example.com }
`, 'proxy.yaml');
    expect(config).toMatchObject({ lazyRefresh: true, exitZeroOnSigterm: true });
    expect(config.listeners[0]?.target).toMatchObject({ upstreamHost: '10.0.0.5', customDomain: 'warehouse.example.com' });
    expect(findProblems(config)).toEqual([]);
  });

  it('refuses --lazy-refresh with --warm, and a custom domain that is not a DNS name', async () => {
    const r = await resolve(['--upstream', 'c.abc.us-east-1.redshift.amazonaws.com', '--lazy-refresh', '--warm', '2',
      '--custom-domain', '10.0.0.1']);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.problems).toEqual(expect.arrayContaining([
      expect.stringMatching(/^--lazy-refresh cannot be used with --warm/),
      expect.stringMatching(/^--custom-domain must be a DNS name/),
    ]));
  });
});
