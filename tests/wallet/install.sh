#!/bin/sh
# Creates (or reuses) a Python virtualenv for the wallet end-to-end tests and installs
# tests/wallet/requirements.txt into it. Idempotent: a second run is a no-op when the venv is
# intact and requirements.txt has not changed.
#
# Usage: sh tests/wallet/install.sh [VENV_DIR]
#   VENV_DIR  default: target/wallet-venv; a relative path is taken relative to the repo root.
#   PYTHON    env var, interpreter used to create the venv (default: python3; needs >= 3.10).
#
# Prints ONLY the path of the venv's python on stdout (all progress goes to stderr), so:
#   PY=$(sh tests/wallet/install.sh) && "$PY" tests/wallet/web3_flow.py --rpc ... --key ...
#
# On a fresh Debian/Ubuntu machine `python3 -m venv` fails until python3-venv is installed; the
# script then runs `apt-get update && apt-get install -y python3-venv python3-pip` (through sudo
# when not root) and retries.
set -eu

log() { echo "install.sh: $*" >&2; }
die() { log "error: $*"; exit 1; }

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
REQ="$HERE/requirements.txt"
PYTHON=${PYTHON:-python3}

VENV=${1:-target/wallet-venv}
case "$VENV" in
  /*) ;;
  *) VENV="$ROOT/$VENV" ;;
esac

command -v "$PYTHON" >/dev/null 2>&1 || die "'$PYTHON' not found; install python3 (>= 3.10) first"
"$PYTHON" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else 1)' \
  || die "$("$PYTHON" -V 2>&1) is too old: web3 8 / eth-account 0.14 need Python >= 3.10"

STAMP="$VENV/.lazychain-wallet-requirements"
want_stamp() {
  # Requirements content + interpreter version: a change to either forces a reinstall.
  { cat "$REQ"; "$VENV/bin/python" -VV; } 2>/dev/null | cksum
}

# Fast path: intact venv, same requirements, packages importable.
if [ -x "$VENV/bin/python" ] && [ -f "$STAMP" ] \
   && [ "$(cat "$STAMP")" = "$(want_stamp)" ] \
   && "$VENV/bin/python" -c 'import web3, eth_account' >/dev/null 2>&1; then
  log "up to date: $VENV"
  echo "$VENV/bin/python"
  exit 0
fi

if [ -e "$VENV" ] && [ ! -f "$VENV/pyvenv.cfg" ]; then
  die "$VENV exists and is not a virtualenv; refusing to touch it"
fi

venv_ok() { [ -x "$VENV/bin/python" ] && "$VENV/bin/python" -m pip --version >/dev/null 2>&1; }

make_venv() {
  # --clear: a failed earlier attempt (no ensurepip) leaves a venv without pip behind.
  "$PYTHON" -m venv --clear "$VENV" >&2 && venv_ok
}

apt_install_venv() {
  if [ "$(id -u)" -eq 0 ]; then
    SUDO=
  elif command -v sudo >/dev/null 2>&1; then
    SUDO=sudo
  else
    die "python3 -m venv failed and neither root nor sudo is available to apt-get install python3-venv"
  fi
  command -v apt-get >/dev/null 2>&1 \
    || die "python3 -m venv failed and apt-get is missing; install the venv module for $PYTHON by hand"
  log "python3 -m venv failed; installing python3-venv python3-pip with apt-get"
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update >&2
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y python3-venv python3-pip >&2
}

if ! venv_ok; then
  mkdir -p "$(dirname "$VENV")"
  log "creating virtualenv $VENV with $("$PYTHON" -V 2>&1)"
  if ! make_venv; then
    apt_install_venv
    make_venv || die "python3 -m venv $VENV still fails after installing python3-venv"
  fi
fi

log "pip install -r $REQ"
"$VENV/bin/python" -m pip install --disable-pip-version-check --no-input -r "$REQ" >&2
"$VENV/bin/python" -c 'import web3, eth_account; print("install.sh: web3", web3.__version__, "eth-account", eth_account.__version__)' >&2 \
  || die "packages installed but 'import web3, eth_account' fails"
want_stamp > "$STAMP"
echo "$VENV/bin/python"
