/**
 * The walls of docs/ARCHITECTURE.md, checked on the source itself: nothing under src/ imports test code, ops/ is a
 * leaf (it imports nothing else of ours), no module grows past ~300 lines, and the import graph has no circle —
 * type-only imports included, since a type circle is the same tangle for a reader.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = path.resolve('src');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(full);
    return e.name.endsWith('.ts') && !e.name.endsWith('.d.ts') ? [full] : [];
  });
}

/** Every relative module a file imports or re-exports, resolved to a .ts path. */
function importsOf(file: string, text: string): string[] {
  const found: string[] = [];
  for (const m of text.matchAll(/(?:^|\n)\s*(?:import|export)\s[^'";]*?from\s+['"](\.[^'"]+)['"]/g)) {
    found.push(path.resolve(path.dirname(file), (m[1] ?? '').replace(/\.js$/, '.ts')));
  }
  for (const m of text.matchAll(/import\(\s*['"](\.[^'"]+)['"]\s*\)/g)) {
    found.push(path.resolve(path.dirname(file), (m[1] ?? '').replace(/\.js$/, '.ts')));
  }
  return found;
}

const files = sourceFiles(SRC);
const texts = new Map(files.map((f) => [f, readFileSync(f, 'utf8')]));
const graph = new Map(files.map((f) => [f, importsOf(f, texts.get(f) ?? '')]));
const rel = (f: string): string => path.relative(process.cwd(), f);

describe('the import graph of src/', () => {
  it('finds the files and their imports (the walk itself works)', () => {
    expect(files.length).toBeGreaterThan(100);
    const session = graph.get(path.join(SRC, 'proxy/session.ts'));
    expect(session).toContain(path.join(SRC, 'proxy/session-stepper.ts'));
  });

  it('never reaches into test/', () => {
    const wrong = [...graph].flatMap(([f, deps]) => deps.filter((d) => !d.startsWith(SRC + path.sep)).map((d) => `${rel(f)} -> ${rel(d)}`));
    expect(wrong).toEqual([]);
  });

  it('keeps ops/ a leaf', () => {
    const ops = path.join(SRC, 'ops') + path.sep;
    const wrong = [...graph].filter(([f]) => f.startsWith(ops))
      .flatMap(([f, deps]) => deps.filter((d) => !d.startsWith(ops)).map((d) => `${rel(f)} -> ${rel(d)}`));
    expect(wrong).toEqual([]);
  });

  it('keeps every module small (no file over ~300 lines; a screen of slack for the last few)', () => {
    const long = files.map((f) => ({ f: rel(f), lines: (texts.get(f) ?? '').split('\n').length - 1 }))
      .filter((x) => x.lines > 320).map((x) => `${x.f}: ${x.lines} lines`);
    expect(long).toEqual([]);
  });

  it('has no circle', () => {
    const circles: string[] = [];
    const state = new Map<string, 'open' | 'done'>();
    const stack: string[] = [];
    const visit = (f: string): void => {
      state.set(f, 'open');
      stack.push(f);
      for (const d of graph.get(f) ?? []) {
        if (!graph.has(d)) continue;
        if (state.get(d) === 'open') circles.push(stack.slice(stack.indexOf(d)).concat(d).map(rel).join(' -> '));
        else if (!state.has(d)) visit(d);
      }
      stack.pop();
      state.set(f, 'done');
    };
    for (const f of files) if (!state.has(f)) visit(f);
    expect(circles).toEqual([]);
  });
});
