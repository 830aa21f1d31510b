#!/usr/bin/env bash
# README's test command (`npm run test:all`): the whole suite on every Node.js version package.json supports —
# first on the Node running npm (`npm test`, which also installs the Debian packages the suite needs), then on each
# other version of RAP_NODE_VERSIONS (default "20 24": the oldest supported and the current LTS), each fetched
# from the npm registry by scripts/node-from-npm.sh. Fails if the suite fails on any of them.
set -euo pipefail
cd "$(dirname "$0")/.."

versions=${RAP_NODE_VERSIONS:-20 24}
current=$(node -p 'process.versions.node.split(".")[0]')

echo "test:all: the suite on Node $(node --version) (the one running npm)" >&2
npm test

for major in $versions; do
  [ "$major" = "$current" ] && continue
  node_bin=$(bash scripts/node-from-npm.sh "$major")
  echo "test:all: the suite on Node $("$node_bin" --version) ($node_bin)" >&2
  # The same build; vitest and every child process that runs `node` use this binary.
  PATH="$(dirname "$node_bin"):$PATH" "$node_bin" node_modules/vitest/vitest.mjs run
done
