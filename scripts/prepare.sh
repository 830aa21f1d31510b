#!/usr/bin/env bash
# package.json's `prepare` (npm runs it after `npm install`/`npm ci` in a clone, for `npm pack`, and for
# `npm install -g <git URL>`): builds dist/. For a git URL, npm prepares its clone with an `npm install` that
# inherits npm_config_global=true from the global install, so that install puts nothing in the clone's
# node_modules and the compiler is missing (npm/cli#8440); then install the build's dependencies locally first.
set -euo pipefail
cd "${BASH_SOURCE[0]%/*}/.."
if [ ! -e node_modules/typescript/package.json ]; then
  echo "prepare: installing the build's dependencies into $(pwd)/node_modules (npm install -g of a git URL)" >&2
  env -u npm_config_global -u npm_config_prefix -u npm_config_global_prefix \
    npm install --global=false --no-save --include=dev --ignore-scripts --no-audit --no-fund >&2
fi
npm run build
