#!/usr/bin/env bash
# The project's test command (make test): installs what is missing, builds the tests with
# AddressSanitizer + UndefinedBehaviorSanitizer and warnings as errors, builds the memory
# backend's tests again under ThreadSanitizer, and runs everything. Real servers (redis-server)
# are started and stopped by the tests themselves on free loopback ports.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh

jobs=$(nproc)
export CCACHE_DIR=${CCACHE_DIR:-$HOME/.cache/ccache}
export CCACHE_MAXSIZE=${CCACHE_MAXSIZE:-5G}
# Paths relative to the checkout, so a fresh clone elsewhere still hits the cache.
export CCACHE_BASEDIR=${CCACHE_BASEDIR:-$PWD}
export CCACHE_NOHASHDIR=${CCACHE_NOHASHDIR:-1}
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1}

echo "== build: tests with address,undefined sanitizers (build/test)"
# -O1 -g1: sanitizer builds compile faster and still run the tests quickly.
cmake -S . -B build/test -G Ninja -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG="-O1 -g1" \
      -DSTREAMSTATE_WERROR=ON -DSTREAMSTATE_SANITIZE=address,undefined >/dev/null
cmake --build build/test -j"$jobs"

echo "== build: memory backend, conformance, keyed-state concurrency, checkpoint storage, write-ahead log, checkpoint, write-back cache and pipeline runtime tests with thread sanitizer (build/tsan)"
cmake -S . -B build/tsan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG="-O1 -g1" -DSTREAMSTATE_WERROR=ON \
      -DSTREAMSTATE_SANITIZE=thread -DSTREAMSTATE_WITH_ROCKSDB=OFF -DSTREAMSTATE_WITH_REDIS=OFF \
      -DSTREAMSTATE_BUILD_BENCH=OFF >/dev/null
cmake --build build/tsan -j"$jobs" --target streamstate_memory_tests streamstate_conformance_tests \
      streamstate_state_concurrency_tests streamstate_storage_tests streamstate_wal_tests streamstate_checkpoint_tests \
      streamstate_cache_tests streamstate_runtime_tests

echo "== run: thread sanitizer"
build/tsan/tests/streamstate_memory_tests --gtest_brief=1
build/tsan/tests/streamstate_conformance_tests --gtest_brief=1
build/tsan/tests/streamstate_state_concurrency_tests --gtest_brief=1
build/tsan/tests/streamstate_storage_tests --gtest_brief=1
build/tsan/tests/streamstate_wal_tests --gtest_brief=1
build/tsan/tests/streamstate_checkpoint_tests --gtest_brief=1
build/tsan/tests/streamstate_cache_tests --gtest_brief=1
# The pipeline's threads; the kill -9 proof (separate processes) runs in the ASan build.
build/tsan/tests/streamstate_runtime_tests --gtest_brief=1 --gtest_filter=-PipelineKill.*:*FileCrash*:*CrashTest*

echo "== run: all tests (ctest)"
ctest --test-dir build/test --output-on-failure -j"$jobs"
