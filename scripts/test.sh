#!/usr/bin/env bash
# The full test suite, as CI runs it: install what the tests need, check formatting and
# lints, then run every test (unit, integration, end-to-end, doc tests).
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh

cargo fmt --all -- --check
cargo clippy --workspace --all-targets --locked -- -D warnings
# Doc tests run here once; nextest (configured in `.config/nextest.toml`: timeouts, and
# test groups for the Nix and server tests) cannot run them, and the fallback skips them.
cargo test --workspace --doc --locked
if cargo nextest --version >/dev/null 2>&1; then
  cargo nextest run --workspace --locked --no-fail-fast
else
  cargo test --workspace --locked --no-fail-fast --lib --bins --tests
fi
