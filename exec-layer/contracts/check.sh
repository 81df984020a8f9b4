#!/bin/sh
# Rebuilds the contracts into a temporary directory and compares the result with the committed
# build/ directory. Exit 0: identical. Exit 1: drift (the diff is printed). Exit 2: setup error.
#
# Needs node_modules (run `npm ci` first); usage: sh exec-layer/contracts/check.sh
set -u
HERE=$(cd "$(dirname "$0")" && pwd)

if [ ! -d "$HERE/node_modules/solc" ]; then
  echo "check.sh: $HERE/node_modules/solc missing; run 'npm ci' in $HERE first" >&2
  exit 2
fi

TMP=$(mktemp -d "${TMPDIR:-/tmp}/lazychain-contracts.XXXXXX") || exit 2
trap 'rm -rf "$TMP"' EXIT INT TERM

if ! (cd "$HERE" && node build.js "$TMP/build" >/dev/null); then
  echo "check.sh: build failed" >&2
  exit 2
fi

if diff -r "$HERE/build" "$TMP/build"; then
  echo "check.sh: build/ is up to date"
  exit 0
else
  echo "check.sh: build/ differs from a fresh build of src/ (run 'node build.js' and commit build/)" >&2
  exit 1
fi
