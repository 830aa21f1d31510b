/**
 * Runs a script's `main(argv)` and turns its outcome into the exit code: the number it returns, or 1 with
 * "<name>: <stack>" on stderr when it throws. Shared by the bench and load scripts.
 */
export function runScript(name: string, main: (argv: string[]) => Promise<number>): void {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      process.stderr.write(`${name}: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
