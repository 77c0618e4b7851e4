#!/usr/bin/env bash
# The exporter against the bundled mock Qdrant, which serves responses recorded
# from a real Qdrant v1.18.3: see real-looking metrics without running Qdrant.
#   scripts/demo.sh          serve until Ctrl-C (exporter on http://127.0.0.1:9999)
#   scripts/demo.sh --once   print one scrape and exit (used by the tests)
# Ports: EXPORTER_PORT (default 9999), MOCK_PORT (default 16333).
set -euo pipefail
cd "$(dirname "$0")/.."

exporter_port="${EXPORTER_PORT:-9999}"
mock_port="${MOCK_PORT:-16333}"

cargo build --quiet --workspace --bins
# With --once, logs go to a file (shown if the demo fails) so stdout is the scrape alone.
log=/dev/stdout
if [ "${1:-}" = "--once" ]; then log=$(mktemp); fi
pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; }
trap cleanup EXIT INT TERM

target/debug/mock-qdrant --listen "127.0.0.1:${mock_port}" >>"$log" 2>&1 &
pids+=($!)
QDRANT_URL="http://127.0.0.1:${mock_port}" \
  target/debug/qdrant-exporter --listen-address "127.0.0.1:${exporter_port}" >>"$log" 2>&1 &
pids+=($!)

metrics_url="http://127.0.0.1:${exporter_port}/metrics"
for _ in $(seq 1 100); do
  if body=$(python3 -c "import sys, urllib.request; sys.stdout.write(urllib.request.urlopen(sys.argv[1], timeout=5).read().decode())" "$metrics_url" 2>/dev/null); then
    break
  fi
  sleep 0.1
done
if ! grep -q '^qdrant_up 1$' <<<"${body:-}"; then
  echo "demo: the exporter did not report qdrant_up 1 at ${metrics_url}" >&2
  [ "$log" = /dev/stdout ] || cat "$log" >&2
  exit 1
fi

if [ "${1:-}" = "--once" ]; then
  printf '%s\n' "$body"
  exit 0
fi
grep -E "^qdrant_(up|collections|shard_local_points)" <<<"$body"
echo
echo "Exporter: http://127.0.0.1:${exporter_port}/  (metrics: ${metrics_url})"
echo "Mock Qdrant: http://127.0.0.1:${mock_port}/collections  -- Ctrl-C stops both."
wait
