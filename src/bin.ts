#!/usr/bin/env node
/** The executable: runs the CLI and turns its result into the process exit status. */
import { hideBin } from 'yargs/helpers';
import { main } from './cli.js';

main(hideBin(process.argv)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`redshift-auth-proxy: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
