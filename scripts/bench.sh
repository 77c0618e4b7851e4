#!/usr/bin/env bash
# The benchmark: figures printed, nothing asserted (see BENCHMARKS.md).
# Installs nginx (the ceiling cache hits are compared with) and wrk (the load
# generator) first, as Debian packages.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x /usr/sbin/nginx ] || [ ! -x /usr/bin/wrk ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "==> installing nginx and wrk (Debian packages)"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends nginx wrk >/dev/null
fi
exec cargo bench --bench exporter -- "$@"
