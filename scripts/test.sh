#!/usr/bin/env bash
# The project's test command: every unit test and every multi-node test (real processes on
# loopback). Multi-node tests run one at a time (see .config/nextest.toml). The wallet test
# needs web3.py: tests/wallet/install.sh installs it into target/wallet-venv (idempotent); the
# differential wallet test needs viem, ethers and anvil: tests/wallet/install_js.sh installs
# them (and node with apt when missing) into tests/wallet/js/node_modules; the
# partition test needs iproute2 and root, installed below when missing.
set -euo pipefail
cd "$(dirname "$0")/.."
# The partition test runs nodes in network namespaces: it needs iproute2's `ip` (and root).
if ! command -v ip >/dev/null 2>&1; then
  echo "test.sh: installing iproute2 for the network-namespace test" >&2
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update >&2 && $SUDO apt-get install -y iproute2 >&2
fi
LAZYCHAIN_WALLET_PYTHON="$(sh tests/wallet/install.sh)"
export LAZYCHAIN_WALLET_PYTHON
# The differential wallet test needs node with viem, ethers and anvil from npm.
LAZYCHAIN_WALLET_JS="$(sh tests/wallet/install_js.sh)"
export LAZYCHAIN_WALLET_JS
exec cargo nextest run --workspace --all-targets --locked --profile "${NEXTEST_PROFILE:-default}" "$@"
