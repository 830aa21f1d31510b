/**
 * The one way to a checked Config: the config file (when given), the flags and environment over it, then the
 * shared rules, with each problem named the way the user wrote it (file key and line, or flag).
 */
import type { Config } from './config.js';
import { configFromFlags, PER_LISTENER_FLAGS } from './from-flags.js';
import type { Flags } from './from-flags.js';
import { ConfigFileError, loadConfigFile } from './load-file.js';
import { findProblems, validateConfig } from './validate-config.js';

export type ResolvedConfig =
  | { readonly ok: true; readonly config: Config }
  | { readonly ok: false; readonly problems: readonly string[] };

const kebab = (name: string): string => name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

export function resolveConfig(flags: Flags, configFile?: string): ResolvedConfig {
  if (configFile === undefined) {
    const config = configFromFlags(flags);
    const problems = validateConfig(config);
    return problems.length > 0 ? { ok: false, problems } : { ok: true, config };
  }
  let loaded;
  try {
    loaded = loadConfigFile(configFile);
  } catch (err) {
    if (err instanceof ConfigFileError) return { ok: false, problems: err.problems };
    throw err;
  }
  if (loaded.config.listeners.length > 1) {
    const clashing = PER_LISTENER_FLAGS.filter((k) => flags[k] !== undefined);
    if (clashing.length > 0) {
      return { ok: false, problems: clashing.map((k) => `--${kebab(k)} cannot be combined with ${configFile}, which has `
        + `${loaded.config.listeners.length} listeners: set it on the listener in the file`) };
    }
  }
  const config = configFromFlags(flags, loaded.config);
  const problems = findProblems(config, loaded.namer).map((p) => loaded.describe(p));
  return problems.length > 0 ? { ok: false, problems } : { ok: true, config };
}
