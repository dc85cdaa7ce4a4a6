#!/usr/bin/env bash
# Installs the build tree given as $1 into a temporary prefix, then configures, builds and runs
# tests/install/consumer against it, as a user's project would with find_package(streamstate).
set -euo pipefail
build_dir=$1
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cmake --install "$build_dir" --prefix "$work/prefix" >/dev/null
cmake -S "$here/consumer" -B "$work/build" -DCMAKE_PREFIX_PATH="$work/prefix" \
      -DCMAKE_CXX_FLAGS="${SANITIZE_FLAGS:-}" -DCMAKE_EXE_LINKER_FLAGS="${SANITIZE_FLAGS:-}" >/dev/null
cmake --build "$work/build" >/dev/null
"$work/build/consumer" "$work/state"
