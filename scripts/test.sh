#!/usr/bin/env bash
# Runs every test of the project. Installs what the tests need first:
# promtool (Debian's prometheus package), which checks the exposition.
set -euo pipefail
cd "$(dirname "$0")/.."

install_debian_packages() {
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

if ! command -v promtool >/dev/null 2>&1; then
  echo "==> installing promtool (Debian package prometheus)"
  install_debian_packages prometheus
fi

echo "==> cargo fmt --check"
cargo fmt --all -- --check
echo "==> cargo clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings
echo "==> cargo test"
cargo_log=$(mktemp)
cargo test --workspace --locked 2>&1 | tee "$cargo_log"
echo "==> demo (scripts/demo.sh --once)"
demo_output=$(EXPORTER_PORT=19999 MOCK_PORT=26333 scripts/demo.sh --once)
grep -qx 'qdrant_collection_points{collection="docs"} 2000' <<<"$demo_output"
echo "demo: ok"

# One closing line for all test binaries (cargo's last line is often a doc-test run of 0 tests).
awk '/^test result:/ { passed += $4; failed += $6 } END { printf "tests: %d passed, %d failed\n", passed, failed }' "$cargo_log"
