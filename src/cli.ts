/**
 * The command line: yargs parses flags (and REDSHIFT_AUTH_PROXY_* environment variables) for the command named
 * (cli/commands.ts lists them with their option groups), values are checked as they are parsed
 * (cli/flag-values.ts), unknown words get a "did you mean" (cli/suggest.ts), and the command runs.
 * Exit codes: 0 done, 1 failed, 2 bad usage, 130 SIGINT, 143 SIGTERM.
 */
import yargs from 'yargs';
import type { Argv } from 'yargs';
import { COMMANDS, EXIT_USAGE, renderExamples } from './cli/commands.js';
import type { CommandFlags, CommandSpec } from './cli/commands.js';
import type { OptionGroup } from './cli/options.js';
import { nearest, unknownFlags } from './cli/suggest.js';
import type { FlagSet } from './cli/suggest.js';
import { productVersion } from './ops/version.js';

export { EXIT_USAGE };

const NAME = 'redshift-auth-proxy';
const EPILOGUE = 'Every flag can also be set as an environment variable: REDSHIFT_AUTH_PROXY_DB_USER=analyst is --db-user analyst. '
  + 'Precedence: flags, then environment, then --config file. Exit status: 0 done, 1 failed, 2 bad usage, 130 SIGINT, 143 SIGTERM.';

function addGroups(y: Argv, groups: readonly OptionGroup[]): Argv {
  let out = y;
  for (const g of groups) out = out.options(g.options).group(Object.keys(g.options), g.title);
  return out;
}

/** What parsing found besides the flags: the command chosen (undefined when only help or version was shown). */
export interface ParseOutcome {
  command?: CommandSpec;
}

/** The real parser, as main runs it (tests call .parseAsync() on it to see the flags). */
export function buildParser(argv: readonly string[], outcome: ParseOutcome = {}): Argv {
  let y = yargs([...argv])
    .scriptName(NAME)
    .env('REDSHIFT_AUTH_PROXY')
    .parserConfiguration({ 'duplicate-arguments-array': false })
    .usage(`$0 [command] [options]\n\nA local PostgreSQL-protocol proxy that logs your tools into Amazon Redshift with temporary IAM credentials over verified TLS.`);
  for (const spec of COMMANDS) {
    y = y.command({
      command: spec.isDefault ? [spec.name, '$0'] : spec.name,
      describe: spec.describe,
      builder: (b) => addGroups(b, spec.groups).epilogue(`Examples:\n${renderExamples(spec.examples)}\n\n${EPILOGUE}`),
      handler: () => {
        outcome.command = spec;
      },
    });
  }
  return y
    .help().alias('help', 'h')
    .version(productVersion()).alias('version', 'V')
    .exitProcess(false)
    .wrap(Math.min(120, Math.max(80, process.stdout.columns || 100)));
}

function flagSet(groups: readonly OptionGroup[]): FlagSet {
  const booleans = new Set(['help', 'version']);
  const valued = new Set<string>();
  for (const g of groups) {
    for (const [name, o] of Object.entries(g.options)) (o.type === 'boolean' ? booleans : valued).add(name);
  }
  return { booleans, valued, short: new Set(['h', 'V']) };
}

/** "unknown flag --dbuser (did you mean --db-user?)", pointing at another command when the flag is one of its. */
function describeUnknownFlag(flag: string, spec: CommandSpec): string {
  const word = flag.replace(/^-+/, '').replace(/^no-/, '');
  const names = (c: CommandSpec): string[] => c.groups.flatMap((g) => Object.keys(g.options));
  const owner = COMMANDS.find((c) => c !== spec && names(c).some((n) => nearest(word, [n]) === n && n.length === word.length));
  if (owner && !names(spec).includes(word)) return `unknown flag ${flag}: it is a flag of the ${owner.name} command, not ${spec.name}`;
  const guess = nearest(word, names(spec));
  if (guess) return `unknown flag ${flag} (did you mean --${guess}?)`;
  for (const other of COMMANDS.filter((c) => c !== spec)) {
    const theirs = nearest(word, names(other));
    if (theirs) return `unknown flag ${flag} (did you mean --${theirs}? it is a flag of the ${other.name} command)`;
  }
  return `unknown flag ${flag}`;
}

/** yargs' own wording for a missing value or a wrong choice, said the way the rest of the CLI says it. */
function plainYargsMessage(message: string): string {
  const missing = /^Not enough arguments following: (\S+)$/.exec(message);
  if (missing) return `--${missing[1]} needs a value`;
  const choice = /Argument: (\S+), Given: (.*), Choices: (.*)$/m.exec(message);
  if (choice) return `--${choice[1]} expects one of ${choice[3]?.replace(/"/g, '')} (got ${choice[2]?.replace(/^"|"$/g, '')})`;
  return message;
}

function usage(problems: readonly string[], spec: CommandSpec | undefined): number {
  const help = spec && !spec.isDefault ? `${NAME} ${spec.name} --help` : `${NAME} --help`;
  process.stderr.write(`${problems.map((p) => `${NAME}: ${p}\n`).join('')}Run ${help} for usage.\n`);
  return EXIT_USAGE;
}

export async function main(argv: string[]): Promise<number> {
  const outcome: ParseOutcome = {};
  let failure: string | undefined;
  let output = '';
  const flags = await new Promise<CommandFlags>((resolve) => {
    void buildParser(argv, outcome)
      .fail((msg, err) => {
        failure = err?.message || msg || 'invalid arguments';
      })
      .parseAsync(argv, {}, (_err, parsed, text) => {
        output = text;
        resolve(parsed as unknown as CommandFlags);
      });
  });
  if (failure !== undefined) {
    return usage([plainYargsMessage(failure)], outcome.command);
  }
  const spec = outcome.command;
  if (!spec) {
    // --help or --version: yargs produced the text instead of running a command.
    process.stdout.write(output.endsWith('\n') ? output : `${output}\n`);
    return 0;
  }
  const named = flags._.slice(spec.isDefault && flags._[0] !== spec.name ? 0 : 1).map(String);
  const positionals = named.length > 0 && spec.subcommands?.includes(named[0] as string) ? named.slice(1) : named;
  const problems: string[] = [];
  if (positionals.length > 0) {
    const [first = ''] = positionals;
    const guess = spec.isDefault && flags._[0] !== spec.name ? nearest(first, COMMANDS.map((c) => c.name)) : undefined;
    problems.push(spec.isDefault && flags._[0] !== spec.name
      ? `unknown command ${first}${guess ? ` (did you mean ${guess}?)` : ''}; the commands are ${COMMANDS.map((c) => c.name).join(', ')}`
      : `unexpected argument${positionals.length > 1 ? 's' : ''} ${positionals.join(' ')}`);
  }
  problems.push(...unknownFlags(argv, flagSet(spec.groups)).map((f) => describeUnknownFlag(f, spec)));
  if (problems.length > 0) return usage(problems, spec);
  return spec.run(flags);
}
