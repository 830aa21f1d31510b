/**
 * The command line as a user meets it, through the real yargs parser and main(): --version/-V, -h, help per
 * command listing only that command's flags, "did you mean" for unknown flags and commands (each named once),
 * one value check for every numeric flag, address flags that say the form they expect, help examples that paste
 * into a shell as printed, and exit status 2 for every usage error.
 */
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { buildParser, main } from '../../src/cli.js';
import { COMMANDS } from '../../src/cli/commands.js';
import { NUMERIC_FLAGS } from '../../src/cli/options.js';
import { unknownFlags } from '../../src/cli/suggest.js';

const VERSION = (JSON.parse(readFileSync('package.json', 'utf8')) as { version: string }).version;

interface Run { code: number; stdout: string; stderr: string }

/** main() in this process with stdout and stderr captured. Only usage paths are run: nothing reaches the network. */
async function run(argv: string[]): Promise<Run> {
  let stdout = '';
  let stderr = '';
  const out = process.stdout.write.bind(process.stdout);
  const err = process.stderr.write.bind(process.stderr);
  process.stdout.write = ((chunk: string | Uint8Array) => {
    stdout += String(chunk);
    return true;
  }) as typeof process.stdout.write;
  process.stderr.write = ((chunk: string | Uint8Array) => {
    stderr += String(chunk);
    return true;
  }) as typeof process.stderr.write;
  try {
    return { code: await main(argv), stdout, stderr };
  } finally {
    process.stdout.write = out;
    process.stderr.write = err;
  }
}

/** The --help text's flag names (`--listen`), in the order shown. */
const flagsIn = (help: string): string[] => [...help.matchAll(/^\s+(?:-\w, )?--([a-z][\w-]*)/gm)].map((m) => m[1] as string);

afterEach(() => {
  delete process.env.REDSHIFT_AUTH_PROXY_WARM;
  delete process.env.REDSHIFT_AUTH_PROXY_FORMAT;
});

describe('version and help', () => {
  it('--version and -V print the version from package.json and exit 0', async () => {
    for (const flag of ['--version', '-V']) {
      const r = await run([flag]);
      expect(r).toEqual({ code: 0, stdout: `${VERSION}\n`, stderr: '' });
    }
  });

  it('-h and --help show the commands and the default command\'s flags, exit 0', async () => {
    for (const flag of ['-h', '--help']) {
      const r = await run([flag]);
      expect(r.code).toBe(0);
      for (const c of COMMANDS) expect(r.stdout).toContain(`redshift-auth-proxy ${c.name}`);
      expect(flagsIn(r.stdout)).toEqual(expect.arrayContaining(['listen', 'upstream', 'warm', 'help', 'version']));
      expect(r.stdout).not.toMatch(/loopback only/);
    }
  });

  it('each command\'s --help lists that command\'s flags and no other', async () => {
    const check = flagsIn((await run(['check', '--help'])).stdout);
    expect(check).toEqual(expect.arrayContaining(['upstream', 'db-user', 'user', 'database', 'listener', 'config']));
    for (const startOnly of ['listen', 'warm', 'http-listen', 'client-password', 'shutdown-grace', 'format']) expect(check).not.toContain(startOnly);
    const creds = flagsIn((await run(['creds', '-h'])).stdout);
    expect(creds).toContain('format');
    expect(creds).not.toContain('listen');
    const start = flagsIn((await run(['start', '--help'])).stdout);
    expect(start).toEqual(expect.arrayContaining(['listen', 'warm', 'http-listen']));
    for (const probeOnly of ['user', 'database', 'format']) expect(start).not.toContain(probeOnly);
    for (const c of COMMANDS) {
      const shown = new Set(flagsIn((await run([c.name, '--help'])).stdout));
      const declared = c.groups.flatMap((g) => Object.keys(g.options));
      expect([...shown].sort()).toEqual([...declared, 'help', 'version'].sort());
    }
  });

  it('help examples paste into a shell as printed: whole words, continued lines, flags the parser takes', async () => {
    for (const c of COMMANDS) {
      const help = (await run([c.name, '--help'])).stdout;
      for (const e of c.examples) {
        for (const line of e.lines) {
          expect(help.split('\n').some((l) => l.startsWith(`  ${line}`)), `${line} whole in\n${help}`).toBe(true);
          expect(line.length).toBeLessThanOrEqual(76);
        }
        // What a shell reads: continuation lines joined; each redshift-auth-proxy command among them parses.
        const block = help.slice(help.indexOf(`  ${e.lines[0] as string}`)).split('\n');
        const pasted = block.slice(0, e.lines.length).map((l) => l.trim()).join('\n').replace(/ \\\n/g, ' ');
        for (const cmd of pasted.split('\n').filter((l) => l.startsWith('redshift-auth-proxy '))) {
          const argv = cmd.split(/\s+/).slice(1);
          await expect(buildParser(argv).parseAsync(), cmd).resolves.toBeDefined();
          const spec = COMMANDS.find((s) => s.name === argv[0]) ?? COMMANDS.find((s) => s.isDefault);
          const known = { booleans: new Set<string>(), valued: new Set<string>(), short: new Set<string>() };
          for (const g of spec?.groups ?? []) for (const [n, o] of Object.entries(g.options)) (o.type === 'boolean' ? known.booleans : known.valued).add(n);
          expect(unknownFlags(argv, known), cmd).toEqual([]);
        }
      }
    }
  });
});

describe('flags and commands stay in step', () => {
  it('every Flags field configFromFlags reads has a flag some command declares', () => {
    const src = readFileSync('src/config/from-flags.ts', 'utf8');
    const body = src.slice(src.indexOf('export interface Flags'), src.indexOf('\n}', src.indexOf('export interface Flags')));
    const fields = [...body.matchAll(/^\s+(\w+)\?:/gm)].map((m) => (m[1] as string).replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`));
    expect(fields.length).toBeGreaterThan(20);
    const declared = new Set(COMMANDS.flatMap((c) => c.groups.flatMap((g) => Object.keys(g.options))));
    for (const f of fields) expect(declared, `--${f}: add it to a group in src/cli/options.ts`).toContain(f);
  });
});

describe('usage errors exit 2 and say what was meant', () => {
  it('suggests the flag for a near miss, names each unknown flag once', async () => {
    const r = await run(['--dbuser', 'analyst', '--bogus-flag', '--upstream', 'h']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('unknown flag --dbuser (did you mean --db-user?)');
    expect(r.stderr.match(/bogus/gi)).toHaveLength(1);
    expect(r.stderr).not.toMatch(/bogusFlag/);
    expect(r.stderr).toMatch(/Run redshift-auth-proxy --help for usage/);
  });

  it('points at the command a flag belongs to', async () => {
    const r = await run(['check', '--listen', '127.0.0.1:1']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unknown flag --listen: it is a flag of the start command, not check/);
    expect(r.stderr).toMatch(/Run redshift-auth-proxy check --help/);
    expect((await run(['check', '--formt', 'env'])).stderr).toMatch(/did you mean --format\? it is a flag of the creds command/);
  });

  it('suggests the command for a near miss', async () => {
    const r = await run(['chek', '--upstream', 'h']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unknown command chek \(did you mean check\?\)/);
    expect((await run(['creds', 'extra'])).stderr).toMatch(/unexpected argument extra/);
  });

  it('checks every numeric flag the same way: numbers only, whole where whole is meant, within its range', async () => {
    expect([...NUMERIC_FLAGS.keys()].sort()).toEqual(['connect-timeout', 'duration', 'idle-release', 'max-connections',
      'max-upstream-connections', 'shutdown-grace', 'sign-in-port', 'sign-in-wait', 'startup-timeout', 'timeout', 'warm',
      'warm-idle', 'warm-total']);
    for (const [flag, rule] of NUMERIC_FLAGS) {
      // The command that takes the flag (wait's --timeout is not start's).
      const owner = COMMANDS.find((c) => c.groups.some((g) => flag in g.options));
      const cmd = owner && !owner.isDefault ? [owner.name] : [];
      const refused = ['abc', '', String(rule.min - 1), String(rule.max + 1), ...(rule.integer ? [`${rule.min + 0.5}`] : [])];
      for (const value of refused) {
        const r = await run([...cmd, `--${flag}=${value}`]);
        expect(r.code, `--${flag}=${value}`).toBe(2);
        expect(r.stderr).toContain(`--${flag} expects ${rule.integer ? 'a whole number' : 'a number'}`);
        expect(r.stderr).toContain(`e.g. ${rule.example}`);
      }
      const flags = await buildParser([...cmd, `--${flag}`, rule.example]).parseAsync() as Record<string, unknown>;
      expect(flags[flag]).toBe(Number(rule.example));
    }
    expect((await run(['--warm', '1.5'])).stderr).toMatch(/--warm expects a whole number from 0 to 1000, e.g. 2 \(got 1\.5\)/);
    expect((await run(['--warm'])).stderr).toMatch(/--warm needs a value/);
  });

  it('checks numeric values from the environment too', async () => {
    process.env.REDSHIFT_AUTH_PROXY_WARM = 'abc';
    const r = await run(['--upstream', 'h']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--warm expects a whole number/);
  });

  it('does not refuse a variable meant for another command', async () => {
    process.env.REDSHIFT_AUTH_PROXY_FORMAT = 'json';
    await expect(buildParser(['--upstream', 'h']).parseAsync()).resolves.toBeDefined();
    expect(unknownFlags(['--upstream', 'h'], { booleans: new Set(), valued: new Set(['upstream']), short: new Set() })).toEqual([]);
  });

  it('says which form an address flag expects', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['--listen', 'nonsense'], /--listen expects HOST:PORT, e\.g\. 127\.0\.0\.1:5439 \(got nonsense\)/],
      [['--listen', '127.0.0.1:99999'], /--listen expects HOST:PORT/],
      [['--http-listen', 'x:y'], /--http-listen expects HOST:PORT or PORT/],
      [['--upstream', 'a:b:c'], /--upstream expects HOST\[:PORT\]/],
      [['creds', '--format', 'xml'], /--format expects one of url, env, json \(got xml\)/],
    ];
    for (const [argv, message] of cases) {
      const r = await run(argv);
      expect(r.code, argv.join(' ')).toBe(2);
      expect(r.stderr).toMatch(message);
    }
    for (const ok of [['--listen', '[::1]:5439'], ['--listen', 'localhost:0'], ['--http-listen', '9090'], ['--upstream', 'h']]) {
      await expect(buildParser(ok).parseAsync(), ok.join(' ')).resolves.toBeDefined();
    }
  });
});
