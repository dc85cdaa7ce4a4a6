// Helpers shared by the RocksDB backend tests: small options, opening a backend or a column
// and failing the test instead of crashing, and reading a whole column into a map. Each
// function only touches what it is given; call them from the test's own thread.
#pragma once

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <string>
#include <utility>

#include "streamstate/clock.h"
#include "streamstate/rocksdb.h"
#include "testutil/status_matchers.h"

namespace streamstate::testing {

// A 4 MiB block cache and a 1 MiB write buffer, so a test fills memtables with little data.
// `clock` drives expiry; null means the system clock.
inline RocksDbBackendOptions small_options(const std::string& path,
                                           std::shared_ptr<const Clock> clock = nullptr) {
  RocksDbBackendOptions options;
  options.path = path;
  options.block_cache_bytes = 4 << 20;
  options.write_buffer_bytes = 1 << 20;
  options.clock = std::move(clock);
  return options;
}

// The opened backend, or null after failing the test.
inline std::unique_ptr<RocksDbBackend> open_or_die(const RocksDbBackendOptions& options) {
  auto backend = RocksDbBackend::open(options);
  EXPECT_OK(backend);
  return backend.is_ok() ? std::move(backend).value() : nullptr;
}

// The column, or null after failing the test.
inline std::shared_ptr<StateColumn> column_or_die(StateBackend& backend, const std::string& name) {
  auto column = backend.column(name);
  EXPECT_OK(column);
  return column.is_ok() ? column.value() : nullptr;
}

// Every entry of the column, as stored (the backend does not filter reads by expiry).
inline std::map<std::string, std::string> contents(StateColumn& column) {
  std::map<std::string, std::string> entries;
  EXPECT_OK(column.scan("", [&](BytesView key, BytesView value) {
    entries.emplace(std::string(key), std::string(value));
    return true;
  }));
  return entries;
}

}  // namespace streamstate::testing
