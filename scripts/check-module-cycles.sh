#!/usr/bin/env bash
# Fails when modules of the library import each other in a circle, directly or
# through others. cargo-modules reads the imports (use declarations and the
# items' signatures) with rust-analyzer and writes them as a graph of modules;
# Graphviz's sccmap finds its strongly connected components: any is a circle.
# A path written out inside a function body is not an import and is not seen:
# the code names other modules' items through `use`.
# Installs cargo-modules into target/tools (once); scripts/test.sh installs graphviz.
set -euo pipefail
cd "$(dirname "$0")/.."

# 0.27 is the last release that builds with Rust 1.95.
CARGO_MODULES_VERSION=0.27.0
tools="$PWD/target/tools"
if ! "$tools/bin/cargo-modules" --version 2>/dev/null | grep -q "$CARGO_MODULES_VERSION"; then
  echo "==> installing cargo-modules $CARGO_MODULES_VERSION into target/tools (a few minutes, once)"
  cargo install --quiet --locked --root "$tools" "cargo-modules@$CARGO_MODULES_VERSION"
fi
command -v sccmap >/dev/null 2>&1 || { echo "module cycles: needs sccmap (Debian package graphviz)" >&2; exit 1; }

# Modules and their imports only (items folded into their module), test
# modules included.
graph=$("$tools/bin/cargo-modules" dependencies --package qdrant-exporter --lib --cfg-test \
  --no-externs --no-sysroot --no-fns --no-types --no-traits --no-owns --layout dot)
modules=$(grep -v -- '->' <<<"$graph" | grep -c '" \[label=' || true)
if [ "$modules" -lt 20 ]; then
  echo "module cycles: cargo-modules saw only $modules modules; the graph is not the library's" >&2
  exit 1
fi
mapfile -t circles < <(sccmap -S <<<"$graph" | grep -oE '"qdrant_exporter[^"]*" -> "[^"]*"' | sort -u || true)
if [ ${#circles[@]} -gt 0 ]; then
  echo "module cycles: these imports close a circle (file A uses B, B uses A, directly or through others):" >&2
  printf '  %s\n' "${circles[@]}" >&2
  exit 1
fi
echo "module cycles: none among $modules modules"
