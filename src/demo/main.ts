/**
 * The demo's executable (`npm run demo` runs `node dist/src/demo/main.js`): parses the flags, runs the demo and
 * turns its result into the exit status.
 */
import { parseDemoArgs, runDemo, EXIT_USAGE } from './run-demo.js';

const print = (line: string): void => {
  process.stdout.write(`${line}\n`);
};

async function main(argv: readonly string[]): Promise<number> {
  const args = await parseDemoArgs(argv);
  if ('usage' in args) {
    process.stderr.write(`demo: ${args.usage}\nRun with --help for usage.\n`);
    return EXIT_USAGE;
  }
  return runDemo(args, print);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
    // Everything the demo started is closed by now; should a library keep a handle open, do not hang on it.
    setTimeout(() => process.exit(code), 2_000).unref();
  },
  (err: unknown) => {
    process.stderr.write(`demo: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
    process.exit(1);
  },
);
