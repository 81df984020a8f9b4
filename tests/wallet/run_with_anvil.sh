#!/bin/sh
# Runs web3_flow.py against a throwaway anvil (npm package @foundry-rs/anvil) on a free
# loopback port with anvil's first default key, then stops that anvil.
#
# Usage: sh tests/wallet/run_with_anvil.sh [extra anvil args, e.g. --block-time 1]
# Env:
#   PY             python with web3 installed (default: the one printed by install.sh)
#   ANVIL_VERSION  npm version of @foundry-rs/anvil (default 1.7.1, the one measured)
#   ANVIL_DIR      npm prefix where anvil is (or gets) installed; default: a temp dir that is
#                  removed at exit
# Exit status: the flow's (0 = "web3 flow passed"), 2 for setup problems.
set -eu

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
ANVIL_VERSION=${ANVIL_VERSION:-1.7.1}
KEY=0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80

PY=${PY:-$(sh "$HERE/install.sh")}

TMP=$(mktemp -d "${TMPDIR:-/tmp}/lazychain-wallet.XXXXXX")
ANVIL_PID=
cleanup() {
  if [ -n "$ANVIL_PID" ]; then kill "$ANVIL_PID" 2>/dev/null || true; wait "$ANVIL_PID" 2>/dev/null || true; fi
  rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

ANVIL_DIR=${ANVIL_DIR:-$TMP/anvil}
mkdir -p "$ANVIL_DIR"
if ! ls "$ANVIL_DIR"/node_modules/@foundry-rs/anvil-*/bin/anvil >/dev/null 2>&1; then
  echo "run_with_anvil.sh: npm install @foundry-rs/anvil@$ANVIL_VERSION into $ANVIL_DIR" >&2
  npm install --prefix "$ANVIL_DIR" --no-audit --no-fund "@foundry-rs/anvil@$ANVIL_VERSION" >&2 \
    || { echo "run_with_anvil.sh: npm install failed" >&2; exit 2; }
fi
# The platform package (@foundry-rs/anvil-linux-amd64, ...) holds the native binary; running it
# directly (not through the node wrapper) makes the pid we kill the anvil process itself.
ANVIL=
for b in "$ANVIL_DIR"/node_modules/@foundry-rs/anvil-*/bin/anvil; do
  [ -x "$b" ] && ANVIL=$b && break
done
[ -n "$ANVIL" ] || ANVIL="$ANVIL_DIR/node_modules/.bin/anvil"
"$ANVIL" --version >&2 || { echo "run_with_anvil.sh: $ANVIL does not run" >&2; exit 2; }

PORT=$("$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
RPC="http://127.0.0.1:$PORT"
"$ANVIL" --host 127.0.0.1 --port "$PORT" "$@" >"$TMP/anvil.log" 2>&1 &
ANVIL_PID=$!

# Wait (up to 30 s) until eth_chainId answers.
if ! "$PY" - "$RPC" <<'PYEOF'
import json, sys, time, urllib.request
url = sys.argv[1]
body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []}).encode()
deadline = time.time() + 30
while time.time() < deadline:
    try:
        req = urllib.request.Request(url, body, {"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=2) as r:
            if "result" in json.load(r):
                sys.exit(0)
    except Exception:
        pass
    time.sleep(0.2)
sys.exit(1)
PYEOF
then
  echo "run_with_anvil.sh: anvil did not answer on $RPC within 30 s; its log:" >&2
  cat "$TMP/anvil.log" >&2
  exit 2
fi
echo "run_with_anvil.sh: anvil $ANVIL_VERSION on $RPC (pid $ANVIL_PID)" >&2

cd "$ROOT"
"$PY" "$HERE/web3_flow.py" --rpc "$RPC" --key "$KEY"
