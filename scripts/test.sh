#!/usr/bin/env bash
# Runs every test of the project. Installs what the tests need first:
# Debian's prometheus (promtool and the server for the end-to-end test),
# docker-compose (validates the compose file offline), shellcheck, busybox (runs
# the chart's `helm test` pod commands as its image does), and a Python venv with Helm v4 (helm-python-sdk), kubernetes-validate, jsonschema,
# hadolint, actionlint, pytest, mypy and the Python SDK (sdk/python, editable). Needs kubectl for
# `kubectl kustomize` (Debian/Ubuntu: package kubectl).
set -euo pipefail
cd "$(dirname "$0")/.."

install_debian_packages() {
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

missing=()
command -v promtool >/dev/null 2>&1 && command -v prometheus >/dev/null 2>&1 || missing+=(prometheus)
command -v docker-compose >/dev/null 2>&1 || missing+=(docker-compose)
command -v kubectl >/dev/null 2>&1 || missing+=(kubectl)
# actionlint checks the workflows' shell steps with it.
command -v shellcheck >/dev/null 2>&1 || missing+=(shellcheck)
[ -x /bin/busybox ] || missing+=(busybox)
if [ ${#missing[@]} -gt 0 ]; then
  echo "==> installing ${missing[*]} (Debian packages)"
  install_debian_packages "${missing[@]}"
fi
if [ ! -x .venv/bin/python ]; then
  echo "==> creating .venv"
  python3 -m venv .venv
fi
.venv/bin/pip install --quiet --disable-pip-version-check -r tests/requirements.txt -e sdk/python

echo "==> cargo fmt --check"
cargo fmt --all -- --check
echo "==> cargo clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings
echo "==> import cycles between the library's modules"
python3 scripts/check-module-cycles.py --self-test

echo "==> cargo build (the exporter and the mock, for the chart's helm test pods)"
cargo build --workspace --locked

logs=$(mktemp -d)
echo "==> chart, rules, compose, manifests, Dockerfile, workflows and Tiltfile tests (pytest)"
# Also renders the chart into target/chart-rendered for the Rust test below.
(cd tests/chart && ../../.venv/bin/python -m pytest -q) 2>&1 | tee "$logs/pytest"
echo "==> cargo test"
cargo test --workspace --locked -- --include-ignored 2>&1 | tee "$logs/cargo"
echo "==> Python SDK: mypy --strict and pytest (against the exporter and mock binaries)"
.venv/bin/mypy --strict sdk/python/src
(cd sdk/python && ../../.venv/bin/python -m pytest -q) 2>&1 | tee "$logs/sdk"
echo "==> demo (scripts/demo.sh --once)"
demo_output=$(EXPORTER_PORT=19999 MOCK_PORT=26333 scripts/demo.sh --once)
grep -qx 'qdrant_shard_local_points{collection="docs",shard_id="0",peer_id="4688170328447976"} 2000' <<<"$demo_output"
echo "demo: ok"

# One closing line for every runner (cargo's last line is often a doc-test run of 0 tests).
awk '
  /^test result:/ { passed += $4; failed += $6 }
  / passed/ && !/^test result:/ { for (i = 1; i < NF; i++) { if ($(i+1) ~ /^passed/) passed += $i; if ($(i+1) ~ /^failed/) failed += $i } }
  END { printf "tests: %d passed, %d failed\n", passed, failed }
' "$logs/cargo" "$logs/pytest" "$logs/sdk"
