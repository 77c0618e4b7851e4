#!/usr/bin/env bash
# The benchmark: figures printed, nothing asserted (see BENCHMARKS.md).
# Installs nginx first (Debian package), the ceiling cache hits are compared with.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x /usr/sbin/nginx ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "==> installing nginx (Debian package)"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends nginx >/dev/null
fi
exec cargo bench --bench exporter
