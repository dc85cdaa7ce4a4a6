#!/usr/bin/env bash
# Installs a streamstate build tree into a temporary prefix (cmake --install --prefix, as the
# README says), then builds tests/install/consumer against it as a user's project would
# (find_package(streamstate), CMake's default settings) and runs the program with
# LD_LIBRARY_PATH unset:
#   1. every installed shared library and program resolves each streamstate library it needs
#      to the prefix, through its own RUNPATH (checked with ldd and readelf);
#   2. the consumer runs from its build tree;
#   3. the consumer installed into the same prefix (RUNPATH $ORIGIN/../lib, the usual choice
#      for a program shipped beside its libraries) runs, also after the prefix was moved
#      elsewhere, which only relative ($ORIGIN) RUNPATHs survive.
# With static libraries (-DBUILD_SHARED_LIBS=OFF) step 1 checks that the consumer does not
# need any streamstate shared library, and step 3 runs without the move.
#
# Usage:
#   run_install_test.sh BUILD_DIR
#       tests the (already built) tree BUILD_DIR.
#   run_install_test.sh --build SOURCE_DIR BUILD_DIR [CMAKE_ARGUMENT...]
#       first configures BUILD_DIR from SOURCE_DIR with only the libraries (no tests, benchmark
#       or examples) and the given arguments, e.g. -DBUILD_SHARED_LIBS=OFF, and builds it.
#       Keep BUILD_DIR between runs: the second build is incremental (and ccache serves the
#       first one when the sources did not change).
# SANITIZE_FLAGS (environment) are added to the consumer's compile and link flags.
set -euo pipefail
unset LD_LIBRARY_PATH

if [[ ${1:-} == --build ]]; then
  source_dir=$2
  build_dir=$3
  shift 3
  cmake -S "$source_dir" -B "$build_dir" -DSTREAMSTATE_BUILD_TESTS=OFF -DSTREAMSTATE_BUILD_BENCH=OFF \
        -DSTREAMSTATE_BUILD_EXAMPLES=OFF "$@" >/dev/null
  cmake --build "$build_dir"
else
  build_dir=$1
fi

here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
prefix=$work/prefix
cmake --install "$build_dir" --prefix "$prefix" >/dev/null

fail() {
  echo "install test: $*" >&2
  exit 1
}

# The directory the libraries went to (lib, lib64 or lib/<multiarch>, as GNUInstallDirs chose).
config=$(find "$prefix" -name streamstateConfig.cmake -print -quit)
[[ -n $config ]] || fail "no streamstateConfig.cmake under $prefix"
libdir=$(dirname "$(dirname "$(dirname "$config")")")
libdir_relative=${libdir#"$prefix"/}
shopt -s nullglob
shared_libraries=("$libdir"/libstreamstate_*.so.*)
static_libraries=("$libdir"/libstreamstate_*.a)
if ((${#shared_libraries[@]} > 0)); then linkage=shared; else linkage=static; fi
((${#shared_libraries[@]} + ${#static_libraries[@]} > 0)) || fail "no streamstate libraries in $libdir"
echo "install test: $linkage libraries in $libdir"

# Fails unless every streamstate library that `file` needs resolves to a file under `root`
# (LD_LIBRARY_PATH is unset: only RUNPATHs and the system's search path count).
check_resolves_into() {
  local file=$1 root=$2 resolved
  resolved=$(ldd "$file") || fail "ldd $file failed"
  if grep -q "not found" <<<"$resolved"; then
    fail "$file cannot find its libraries without LD_LIBRARY_PATH (its RUNPATH:" \
         "$(readelf -d "$file" | grep -E 'RUNPATH|RPATH' || echo none)):"$'\n'"$(grep "not found" <<<"$resolved")"
  fi
  while read -r name _ path _; do
    [[ $path == "$root"/* ]] || fail "$file loads $name from $path, not from the installed $root"
  done < <(grep -E '^\s*libstreamstate_' <<<"$resolved" || true)
}

# The link flags are the toolchain defaults of Debian and Ubuntu, written out: a program's
# RUNPATH (not RPATH, which would also cover its libraries' dependencies) and --as-needed, so
# that the program does not itself need the backend libraries it reaches only through
# libstreamstate_state. Sanitizer flags switch --as-needed off for what follows them; it is
# switched on again after them.
consumer_flags=(-DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_CXX_FLAGS="${SANITIZE_FLAGS:-}"
                -DCMAKE_EXE_LINKER_FLAGS="${SANITIZE_FLAGS:-} -Wl,--as-needed -Wl,--enable-new-dtags")
cmake -S "$here/consumer" -B "$work/consumer-build" "${consumer_flags[@]}" \
      -DCMAKE_INSTALL_PREFIX="$prefix" -DCMAKE_INSTALL_RPATH="\$ORIGIN/../$libdir_relative" >/dev/null
cmake --build "$work/consumer-build" >/dev/null
cmake --install "$work/consumer-build" >/dev/null

# 1. What the dynamic loader will find.
if [[ $linkage == shared ]]; then
  for library in "${shared_libraries[@]}"; do
    [[ -L $library ]] || check_resolves_into "$library" "$prefix"
  done
  for program in "$prefix"/bin/*; do
    check_resolves_into "$program" "$prefix"
  done
else
  if ldd "$work/consumer-build/consumer" | grep -q libstreamstate_; then
    fail "the consumer of a static install needs streamstate shared libraries: $(ldd "$work/consumer-build/consumer")"
  fi
fi

mkdir "$work/state-build-tree" "$work/state-installed" "$work/state-moved"
# 2. The consumer from its build tree (CMake gave it a RUNPATH naming the prefix's libdir).
"$work/consumer-build/consumer" "$work/state-build-tree"
# 3. The installed consumer, in place and after moving the whole prefix.
"$prefix/bin/consumer" "$work/state-installed"
if [[ $linkage == shared ]]; then
  mv "$prefix" "$work/moved-prefix"
  check_resolves_into "$work/moved-prefix/bin/consumer" "$work/moved-prefix"
  "$work/moved-prefix/bin/consumer" "$work/state-moved"
fi
echo "install test: the $linkage install runs without LD_LIBRARY_PATH"
