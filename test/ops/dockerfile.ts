/**
 * The Dockerfile and .dockerignore as data, for tests that check them and run them without a Docker daemon:
 * instructions by stage (line continuations joined, comments dropped, ARG defaults substituted in FROM), exec-form
 * arguments, and the build-context filter .dockerignore describes.
 */
import { readFileSync } from 'node:fs';

export interface Instruction {
  readonly op: string;
  readonly args: string;
}

export interface Stage {
  readonly from: string;
  readonly name: string | undefined;
  readonly steps: Instruction[];
}

export function parseDockerfile(text: string): Stage[] {
  const lines = text.replace(/\\\n/g, ' ').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
  const args = new Map<string, string>();
  const stages: Stage[] = [];
  for (const line of lines) {
    const [, op = '', rest = ''] = /^(\S+)\s*(.*)$/.exec(line) ?? [];
    const upper = op.toUpperCase();
    if (upper === 'ARG' && stages.length === 0) {
      const [k, v] = rest.split('=');
      if (k && v) args.set(k, v);
    } else if (upper === 'FROM') {
      const [, image = '', name] = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(rest) ?? [];
      stages.push({ from: image.replace(/\$\{(\w+)\}/g, (_m, k: string) => args.get(k) ?? ''), name, steps: [] });
    } else {
      stages[stages.length - 1]?.steps.push({ op: upper, args: rest });
    }
  }
  return stages;
}

export const readDockerfile = (file = 'Dockerfile'): Stage[] => parseDockerfile(readFileSync(file, 'utf8'));

export const steps = (stage: Stage | undefined, op: string): string[] =>
  (stage?.steps ?? []).filter((s) => s.op === op).map((s) => s.args);

/** The JSON array of an exec-form instruction (`CMD ["node", "x.js"]`, `HEALTHCHECK --interval=… CMD [...]`). */
export const execForm = (args: string): string[] => JSON.parse(args.replace(/^.*?(\[)/, '$1')) as string[];

/** A COPY: its --from stage (if any), sources and destination. */
export function parseCopy(args: string): { from: string | undefined; sources: string[]; dest: string } {
  const from = /--from=(\S+)/.exec(args)?.[1];
  const parts = args.replace(/--\S+/g, '').trim().split(/\s+/);
  return { from, sources: parts.slice(0, -1), dest: parts[parts.length - 1] as string };
}

/**
 * .dockerignore as a predicate on context-relative paths, as Docker applies it: patterns in order, the last one
 * that matches decides (`!` re-includes), `*` within a path segment, `**` across segments, and a path whose parent
 * directory is excluded is excluded with it.
 */
export function dockerignore(text: string): (relPath: string) => boolean {
  const rules = text.split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#')).map((l) => {
    const negate = l.startsWith('!');
    const pattern = (negate ? l.slice(1) : l).replace(/^\/+/, '').replace(/\/+$/, '');
    const source = pattern.split('/').map((seg) => (seg === '**' ? '.*'
      : seg.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]'))).join('/');
    return { negate, re: new RegExp(`^${source}$`) };
  });
  return (relPath) => {
    const segs = relPath.split('/');
    let excluded = false;
    for (const r of rules) {
      for (let i = 1; i <= segs.length; i++) {
        if (r.re.test(segs.slice(0, i).join('/'))) {
          excluded = !r.negate;
          break;
        }
      }
    }
    return excluded;
  };
}
