#!/usr/bin/env bash
# The whole test suite, on a fresh machine too: installs what the tests need, then
# runs them (unit tests, and the integration tests that drive the real binary
# against real Dovecot servers, real processes and the sample mail).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh tests
cargo test --locked --lib --tests
