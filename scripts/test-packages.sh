#!/usr/bin/env bash
# Installs the Debian packages the test suite needs, when they are missing (the list, with why, is .ci/packages).
# Run by `npm test` before the suite; as root it calls apt-get, otherwise sudo apt-get. On a machine without apt
# (macOS, another distribution) it lists what is missing and exits 1, so the suite is not run half-equipped.
# RAP_SKIP_PACKAGES=1 skips this step (for machines set up by other means); the client tests still fail when a
# client is absent.
set -euo pipefail
cd "${BASH_SOURCE[0]%/*}/.."

if [ "${RAP_SKIP_PACKAGES:-}" = 1 ]; then exit 0; fi

present() {
  local check=$1
  case "$check" in
    /*) local f; for f in $check; do [ -e "$f" ] && return 0; done; return 1 ;;
    *) command -v "$check" >/dev/null 2>&1 ;;
  esac
}

packages=()
reasons=()
while read -r check pkg why; do
  case "$check" in ''|'#'*) continue ;; esac
  present "$check" && continue
  case " ${packages[*]-} " in *" $pkg "*) continue ;; esac
  packages+=("$pkg")
  reasons+=("  $pkg: $why (missing: $check)")
done < "${RAP_PACKAGES_FILE:-.ci/packages}"

[ ${#packages[@]} -eq 0 ] && exit 0

echo "test-packages: installing ${#packages[@]} Debian package(s) the test suite needs:" >&2
printf '%s\n' "${reasons[@]}" >&2

if ! command -v apt-get >/dev/null 2>&1; then
  echo "test-packages: no apt-get on this machine; install the packages above (or their equivalents) yourself" >&2
  exit 1
fi
if [ "$(id -u)" = 0 ]; then
  as_root() { "$@"; }
elif command -v sudo >/dev/null 2>&1; then
  echo "test-packages: not root, so through sudo" >&2
  as_root() { sudo "$@"; }
else
  echo "test-packages: not root and no sudo: run as root: apt-get install ${packages[*]}" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
as_root apt-get update -qq
as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
echo "test-packages: installed ${packages[*]}" >&2
