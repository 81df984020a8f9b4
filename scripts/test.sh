#!/usr/bin/env bash
# The project's test command: every unit test and every multi-node test (real processes on
# loopback). Multi-node tests run one at a time (see .config/nextest.toml).
set -euo pipefail
cd "$(dirname "$0")/.."
exec cargo nextest run --workspace --all-targets --locked --profile "${NEXTEST_PROFILE:-default}" "$@"
