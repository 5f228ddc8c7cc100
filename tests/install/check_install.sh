#!/usr/bin/env bash
# Installs the built flare into a temporary prefix, builds an outside project against it with
# find_package(flare), and runs it. Usage: check_install.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build="$1"; src="$2"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cmake --install "$build" --prefix "$tmp/prefix" >/dev/null
cmake -S "$src/tests/install/consumer" -B "$tmp/consumer" -DCMAKE_PREFIX_PATH="$tmp/prefix" \
  -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$tmp/consumer" >/dev/null
out=$("$tmp/consumer/consumer")
[ "$out" = "5 7" ] || { echo "consumer printed '$out', expected '5 7'"; exit 1; }
echo "installed flare works from an outside project: $out"
