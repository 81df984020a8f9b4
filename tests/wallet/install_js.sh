#!/bin/sh
# Installs the JavaScript side of the differential wallet test (tests/wallet_diff.rs): viem,
# ethers and anvil (npm @foundry-rs/anvil, whose platform package carries the anvil binary),
# pinned in tests/wallet/js/package-lock.json, into tests/wallet/js/node_modules (install scripts
# off: the platform package carries the binary, nothing is downloaded). Idempotent:
# a second run is a no-op while the lock file is unchanged.
#
# Usage: sh tests/wallet/install_js.sh
# Prints ONLY the directory of the flow (tests/wallet/js) on stdout; progress goes to stderr.
#
# Without node or npm it installs them with apt-get (Debian's nodejs and npm; through sudo
# when not root).
set -eu

log() { echo "install_js.sh: $*" >&2; }
die() { log "error: $*"; exit 1; }

HERE=$(cd "$(dirname "$0")" && pwd)
JS="$HERE/js"
STAMP="$JS/node_modules/.lazychain-lock"

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  if [ "$(id -u)" -eq 0 ]; then SUDO=; elif command -v sudo >/dev/null 2>&1; then SUDO=sudo; else
    die "node and npm are missing and neither root nor sudo is available to apt-get install them"
  fi
  command -v apt-get >/dev/null 2>&1 || die "node and npm are missing and apt-get is too"
  log "installing nodejs and npm with apt-get"
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update >&2
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y nodejs npm >&2
fi
node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 18 ? 0 : 1)' \
  || die "node $(node --version) is too old: viem and ethers need node >= 18"

want_stamp() { { cat "$JS/package-lock.json"; node --version; } | cksum; }
if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$(want_stamp)" ] \
   && [ -x "$JS/node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil" ]; then
  log "up to date: $JS/node_modules"
  echo "$JS"
  exit 0
fi

log "npm ci in $JS"
(cd "$JS" && npm ci --ignore-scripts --no-audit --no-fund >&2) || die "npm ci failed"
"$JS/node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil" --version >&2 \
  || die "the anvil binary of @foundry-rs/anvil-linux-amd64 does not run"
want_stamp > "$STAMP"
echo "$JS"
