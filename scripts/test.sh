#!/usr/bin/env bash
# The project's test command: every unit test and every multi-node test (real processes on
# loopback). Multi-node tests run one at a time (see .config/nextest.toml). The wallet test
# needs web3.py: tests/wallet/install.sh installs it into target/wallet-venv (idempotent).
set -euo pipefail
cd "$(dirname "$0")/.."
LAZYCHAIN_WALLET_PYTHON="$(sh tests/wallet/install.sh)"
export LAZYCHAIN_WALLET_PYTHON
exec cargo nextest run --workspace --all-targets --locked --profile "${NEXTEST_PROFILE:-default}" "$@"
