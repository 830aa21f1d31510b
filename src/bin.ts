#!/usr/bin/env node
/** The executable: runs the CLI and turns its result into the process exit status. */
import { hideBin } from 'yargs/helpers';
import { main } from './cli.js';
import { quietSdkNodeNotice } from './ops/node-support.js';

// Before any AWS client exists (the SDK decides when the first one is made).
quietSdkNodeNotice();

main(hideBin(process.argv)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`redshift-auth-proxy: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
