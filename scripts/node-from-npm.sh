#!/usr/bin/env bash
# Prints the path of a Node.js binary of the given major version (default 24), fetched once from the npm registry's
# node-<os>-<arch> package (the official build the `node` package installs) into a cache:
#   ${RAP_NODE_CACHE:-${XDG_CACHE_HOME:-~/.cache}/redshift-auth-proxy/node}/<version>/bin/node
# Used by `npm run test:all` to run the suite on each supported Node version; only the npm registry is needed.
set -euo pipefail
major=${1:-24}
case "$(uname -s)" in Linux) os=linux ;; Darwin) os=darwin ;; *) echo "node-from-npm: unsupported OS $(uname -s)" >&2; exit 1 ;; esac
case "$(uname -m)" in x86_64|amd64) arch=x64 ;; aarch64|arm64) arch=arm64 ;; *) echo "node-from-npm: unsupported CPU $(uname -m)" >&2; exit 1 ;; esac
pkg="node-$os-$arch"
cache=${RAP_NODE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/redshift-auth-proxy/node}

# The newest version of that major line, as the registry reports it (offline: the newest one already cached).
version=$(npm view "$pkg@$major" version --json 2>/dev/null | node -e '
  let s = ""; process.stdin.on("data", (d) => { s += d; }).on("end", () => {
    try { const v = JSON.parse(s); process.stdout.write(String(Array.isArray(v) ? v[v.length - 1] : v)); } catch { /* offline */ }
  });') || true
if [ -z "$version" ]; then
  version=$(ls "$cache" 2>/dev/null | grep "^$major\." | sort -V | tail -1 || true)
  [ -n "$version" ] || { echo "node-from-npm: cannot reach the npm registry for $pkg@$major and nothing is cached" >&2; exit 1; }
fi
dir="$cache/$version"
if [ ! -x "$dir/bin/node" ]; then
  mkdir -p "$cache"
  tmp=$(mktemp -d "$cache/.fetch.XXXXXX")
  trap 'rm -rf "$tmp"' EXIT
  echo "node-from-npm: fetching $pkg@$version from the npm registry" >&2
  (cd "$tmp" && npm pack "$pkg@$version" --silent >/dev/null)
  tar -xzf "$tmp"/*.tgz -C "$tmp"
  chmod +x "$tmp/package/bin/node"
  rm -rf "$dir"
  mv "$tmp/package" "$dir"
fi
"$dir/bin/node" --version >/dev/null
echo "$dir/bin/node"
