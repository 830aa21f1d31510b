/**
 * The product's version, from package.json: two directories above the compiled file (dist/src/ops → the package
 * root), or baked in by the single-executable build (scripts/package), which has no package.json beside it.
 */
import { readFileSync } from 'node:fs';

/** Replaced with a string literal by the single-executable bundle (esbuild --define). */
declare const __RAP_VERSION__: string | undefined;

export function productVersion(): string {
  if (typeof __RAP_VERSION__ === 'string') return __RAP_VERSION__;
  for (const rel of ['../../../package.json', '../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(rel, import.meta.url), 'utf8')) as { name?: unknown; version?: unknown };
      if (pkg.name === 'redshift-auth-proxy' && typeof pkg.version === 'string') return pkg.version;
    } catch {
      // not at this depth (sources run by vitest sit one level higher than dist)
    }
  }
  return 'unknown';
}
