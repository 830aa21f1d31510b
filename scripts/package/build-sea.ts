/**
 * `npm run package`: a single-file executable for Linux x64, with Node's single executable applications (SEA):
 * the compiled CLI bundled into one CommonJS file (esbuild; SEA runs one script and only Node's own modules can be
 * required in it), turned into a preparation blob by `node --experimental-sea-config`, and injected into a copy of
 * the Node binary running this script with postject (the tool Node's SEA documentation uses).
 *
 *   npm run package                          → dist/sea/redshift-auth-proxy-linux-x64
 *   npm run package -- --node /path/to/node  (embed another official Node build, e.g. the current LTS)
 *
 * The result needs nothing installed (no Node, no node_modules). test/ops/single-executable.test.ts builds it and
 * logs in through it.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { build } from 'esbuild';
import { inject } from 'postject';
import { runScript } from '../run-script.js';

/** The fuse string Node's binary carries for SEA (documented in Node's single-executable-applications page). */
const SEA_FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';

export const SEA_OUTPUT = path.join('dist', 'sea', 'redshift-auth-proxy-linux-x64');

async function main(argv: string[]): Promise<number> {
  const at = argv.indexOf('--node');
  const node = at >= 0 ? argv[at + 1] : process.execPath;
  if (!node) throw new Error('--node needs the path of a Node binary');
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    process.stderr.write(`package: builds the Linux x64 executable; this machine is ${process.platform}-${process.arch}\n`);
    return 1;
  }
  const version = (JSON.parse(readFileSync('package.json', 'utf8')) as { version: string }).version;
  const work = path.join('dist', 'sea', 'work');
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });

  const bundle = path.join(work, 'redshift-auth-proxy.cjs');
  await build({
    entryPoints: ['dist/src/bin.js'],
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    outfile: bundle,
    // package.json is not beside the executable: bake the version in (src/ops/version.ts).
    // import.meta.url does not exist in CommonJS; the bundled libraries (yargs) only need some file URL to
    // anchor createRequire, and the executable's own path is the honest one.
    define: { __RAP_VERSION__: JSON.stringify(version), 'import.meta.url': '__rapImportMetaUrl' },
    banner: { js: 'const __rapImportMetaUrl = require("node:url").pathToFileURL(process.execPath).href;' },
    logLevel: 'warning',
    legalComments: 'none',
  });

  const blob = path.join(work, 'sea-prep.blob');
  const seaConfig = path.join(work, 'sea-config.json');
  writeFileSync(seaConfig, JSON.stringify({ main: bundle, output: blob, disableExperimentalSEAWarning: true }));
  execFileSync(node, ['--experimental-sea-config', seaConfig], { stdio: 'inherit' });

  rmSync(SEA_OUTPUT, { force: true });
  copyFileSync(node, SEA_OUTPUT);
  chmodSync(SEA_OUTPUT, 0o755);
  await inject(SEA_OUTPUT, 'NODE_SEA_BLOB', readFileSync(blob), { sentinelFuse: SEA_FUSE });
  const nodeVersion = execFileSync(node, ['--version'], { encoding: 'utf8' }).trim();
  process.stdout.write(`${SEA_OUTPUT} (redshift-auth-proxy ${version} on Node ${nodeVersion})\n`);
  return 0;
}

runScript('package', main);
