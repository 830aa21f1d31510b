/**
 * The Node.js versions we declare and the AWS SDK versions we lock agree: every SDK package in the lockfile
 * supports the oldest Node package.json's `engines` allows, the SDK clients are pinned to one minor line and
 * bundled into the packed tarball (a global install does not read our lockfile, so it would otherwise float to
 * SDK releases that need a newer Node), and the SDK's Node-version notice is silenced only where it should be.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { MIN_NODE_MAJOR, quietSdkNodeNotice } from '../../src/ops/node-support.js';

interface Manifest {
  engines?: { node?: string };
  dependencies?: Record<string, string>;
  bundleDependencies?: string[];
}
const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as Manifest;
const lock = JSON.parse(readFileSync('package-lock.json', 'utf8')) as { packages: Record<string, Manifest & { dev?: boolean }> };

/** The lowest Node major a `>=X` / `^X || ...` style range admits. */
const lowestMajor = (range: string): number => Math.min(...[...range.matchAll(/(\d+)(?:\.\d+){0,2}/g)].map((m) => Number(m[1])));

describe('Node versions and the AWS SDK', () => {
  it('engines says the same oldest Node as the code', () => {
    expect(pkg.engines?.node).toBe(`>=${MIN_NODE_MAJOR}`);
  });

  it('pins every AWS SDK dependency to one minor line and bundles it into the package', () => {
    const sdk = Object.keys(pkg.dependencies ?? {}).filter((d) => d.startsWith('@aws-sdk/'));
    expect(sdk.length).toBeGreaterThan(0);
    for (const d of sdk) {
      expect(pkg.dependencies?.[d], `${d}: use ~ so a fresh resolve stays on a release that supports Node ${MIN_NODE_MAJOR}`).toMatch(/^~\d+\.\d+\.\d+$/);
      expect(pkg.bundleDependencies, `${d} in bundleDependencies`).toContain(d);
    }
  });

  it('locks only SDK packages that support the oldest declared Node', () => {
    const runtime = Object.entries(lock.packages).filter(([p, m]) => /node_modules\/@(aws-sdk|smithy|aws-crypto|aws)\//.test(p) && !m.dev);
    expect(runtime.length).toBeGreaterThan(10);
    for (const [p, m] of runtime) {
      const engines = m.engines?.node;
      if (engines !== undefined) expect(lowestMajor(engines), `${p} engines ${engines}`).toBeLessThanOrEqual(MIN_NODE_MAJOR);
    }
  });

  it('silences the SDK\'s notice on supported Node versions only, never over the user\'s own setting', () => {
    const on20: NodeJS.ProcessEnv = {};
    quietSdkNodeNotice(on20, 'v20.19.0');
    expect(on20.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED).toBe('true');
    const on18: NodeJS.ProcessEnv = {};
    quietSdkNodeNotice(on18, 'v18.20.8');
    expect(on18.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED).toBeUndefined();
    const chosen: NodeJS.ProcessEnv = { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'false' };
    quietSdkNodeNotice(chosen, 'v20.19.0');
    expect(chosen.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED).toBe('false');
  });

  it('runs on a Node version engines admits', () => {
    expect(Number(process.versions.node.split('.')[0])).toBeGreaterThanOrEqual(MIN_NODE_MAJOR);
  });
});
