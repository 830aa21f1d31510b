/**
 * Unknown flags and commands, each named once with the nearest known name ("did you mean --db-user?"). yargs'
 * own strict mode names a flag twice (bogus-flag, bogusFlag), counts REDSHIFT_AUTH_PROXY_* variables meant for
 * another command, and suggests nothing for flags; so the CLI checks the command line's own words here.
 */

/** Edit distance (insert, delete, substitute, swap neighbours). */
export function distance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) (d[0] as number[])[j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const row = d[i] as number[];
      const prev = d[i - 1] as number[];
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min((prev[j] as number) + 1, (row[j - 1] as number) + 1, (prev[j - 1] as number) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, ((d[i - 2] as number[])[j - 2] as number) + 1);
      row[j] = v;
    }
  }
  return (d[a.length] as number[])[b.length] as number;
}

const squash = (s: string): string => s.toLowerCase().replace(/[-_]/g, '');

/** The known name closest to `word`, if it is close enough to be what was meant. */
export function nearest(word: string, known: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestScore = Number.POSITIVE_INFINITY;
  for (const k of known) {
    // --dbuser, --DB_USER, --dbUser all mean --db-user: compare without case and separators first.
    const score = squash(k) === squash(word) ? 0 : distance(squash(word), squash(k));
    if (score < bestScore) {
      best = k;
      bestScore = score;
    }
  }
  const limit = Math.max(1, Math.min(3, Math.floor(word.length / 3)));
  return best !== undefined && bestScore <= limit ? best : undefined;
}

export interface FlagSet {
  /** Flags (kebab-case, without dashes) that take no value: booleans, --help, --version. */
  readonly booleans: ReadonlySet<string>;
  /** Flags that take a value. */
  readonly valued: ReadonlySet<string>;
  /** One-letter aliases (h, V). */
  readonly short: ReadonlySet<string>;
}

const camelToKebab = (s: string): string => s.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

/**
 * The flags on the command line that `known` does not have, in order, each once (as typed, without its value).
 * Stops at `--`. A value following a flag that takes one is not read as a flag (`--client-password -x`).
 */
export function unknownFlags(argv: readonly string[], known: FlagSet): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const word = argv[i] as string;
    if (word === '--') break;
    if (!word.startsWith('-') || word === '-' || /^-\d/.test(word)) continue;
    if (!word.startsWith('--')) {
      for (const c of word.slice(1)) if (!known.short.has(c) && !out.includes(`-${c}`)) out.push(`-${c}`);
      continue;
    }
    const [raw = '', value] = word.slice(2).split(/=(.*)/s);
    const name = camelToKebab(raw);
    if (known.valued.has(name)) {
      if (value === undefined) i++;
      continue;
    }
    if (known.booleans.has(name) || (name.startsWith('no-') && known.booleans.has(name.slice(3)))) continue;
    if (!out.includes(`--${raw}`)) out.push(`--${raw}`);
  }
  return out;
}
