// The backends every keyed-state suite runs on: memory, RocksDB and Redis (when built) and the
// user-defined example backend (examples/custom_backend, "custom"), each fresh and private to
// one test, with a ManualClock shared by the backend and the store so TTL tests are exact (the
// custom backend has no clock: the expiry headers keyed state writes are all its TTL). StateBackendTest is the parameterized fixture; instantiate a suite with
//   INSTANTIATE_TEST_SUITE_P(backends, MySuite, StateBackendTest::all_backends(),
//   StateBackendTest::param_name);
//
// Thread-safety: one test thread per fixture.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "custom_backend/ordered_map_backend.h"
#include "streamstate/clock.h"
#include "streamstate/config.h"
#include "streamstate/keyed_state_store.h"
#include "streamstate/memory.h"
#include "streamstate/state_key.h"
#include "testutil/status_matchers.h"
#include "testutil/temp_dir.h"

#if STREAMSTATE_HAS_ROCKSDB
#include "streamstate/rocksdb.h"
#endif
#if STREAMSTATE_HAS_REDIS
#include "streamstate/redis.h"
#include "testutil/redis_server.h"
#endif

namespace streamstate::testing {

enum class StateTestBackend { kMemory, kRocksDb, kRedis, kCustom };

inline std::string state_test_backend_name(StateTestBackend backend) {
  switch (backend) {
    case StateTestBackend::kMemory:
      return "memory";
    case StateTestBackend::kRocksDb:
      return "rocksdb";
    case StateTestBackend::kRedis:
      return "redis";
    case StateTestBackend::kCustom:
      return "custom";
  }
  return "unknown";
}

// Shows the backend's name in failure messages instead of its bytes.
inline void PrintTo(StateTestBackend backend, std::ostream* out) { *out << state_test_backend_name(backend); }

// Starts every test at this time, far from 0 so that "before" and "after" are both positive.
inline constexpr int64_t kStartMillis = 1'700'000'000'000;

class StateBackendTest : public ::testing::TestWithParam<StateTestBackend> {
 public:
  static ::testing::internal::ParamGenerator<StateTestBackend> all_backends() {
    std::vector<StateTestBackend> backends{StateTestBackend::kMemory};
#if STREAMSTATE_HAS_ROCKSDB
    backends.push_back(StateTestBackend::kRocksDb);
#endif
#if STREAMSTATE_HAS_REDIS
    backends.push_back(StateTestBackend::kRedis);
#endif
    backends.push_back(StateTestBackend::kCustom);
    return ::testing::ValuesIn(backends);
  }
  static std::string param_name(const ::testing::TestParamInfo<StateTestBackend>& info) {
    return state_test_backend_name(info.param);
  }

 protected:
  void SetUp() override {
    static std::atomic<int> counter{0};
    redis_prefix_ = "state-" + std::to_string(getpid()) + "-" + std::to_string(counter.fetch_add(1));
    clock_ = std::make_shared<ManualClock>(kStartMillis);
    ASSERT_NO_FATAL_FAILURE(open_backend());
    ASSERT_NO_FATAL_FAILURE(open_store());
  }

  void TearDown() override {
    store_.reset();
    if (backend_ != nullptr) EXPECT_OK(backend_->close());
  }

  StateTestBackend kind() const { return GetParam(); }
  bool persistent() const { return kind() == StateTestBackend::kRocksDb || kind() == StateTestBackend::kRedis; }

  // Opens the test's backend (again, on the same data, for persistent ones).
  void open_backend() {
    switch (kind()) {
      case StateTestBackend::kMemory: {
        MemoryBackendOptions options;
        options.clock = clock_;
        auto opened = MemoryBackend::open(options);
        ASSERT_OK(opened);
        memory_ = std::shared_ptr<MemoryBackend>(std::move(opened).value());
        backend_ = memory_;
        return;
      }
      case StateTestBackend::kRocksDb: {
#if STREAMSTATE_HAS_ROCKSDB
        RocksDbBackendOptions options;
        options.path = directory_.file("db");
        options.block_cache_bytes = uint64_t{8} << 20;
        options.write_buffer_bytes = uint64_t{4} << 20;
        auto opened = RocksDbBackend::open(options);
        ASSERT_OK(opened);
        backend_ = std::shared_ptr<StateBackend>(std::move(opened).value());
#endif
        return;
      }
      case StateTestBackend::kRedis: {
#if STREAMSTATE_HAS_REDIS
        RedisBackendOptions options;
        options.port = shared_redis_server().port();
        options.key_prefix = redis_prefix_;
        auto opened = RedisBackend::open(options);
        ASSERT_OK(opened);
        backend_ = std::shared_ptr<StateBackend>(std::move(opened).value());
#endif
        return;
      }
      case StateTestBackend::kCustom: {
        auto opened = examples::open_ordered_map_backend();
        ASSERT_OK(opened);
        backend_ = std::shared_ptr<StateBackend>(std::move(opened).value());
        return;
      }
    }
  }

  void open_store(KeyedStateStoreOptions options = {}) {
    if (options.clock == nullptr) options.clock = clock_;
    auto opened = KeyedStateStore::open(backend_, options);
    ASSERT_OK(opened);
    store_ = std::move(opened).value();
  }

  // A restart: the store and backend are closed and opened again (persistent backends only).
  void restart() {
    store_.reset();
    ASSERT_OK(backend_->close());
    backend_.reset();
    memory_.reset();
    ASSERT_NO_FATAL_FAILURE(open_backend());
    ASSERT_NO_FATAL_FAILURE(open_store());
  }

  // Number of entries stored in a column, read raw from the backend.
  size_t raw_entry_count(const std::string& column) {
    auto handle = backend_->column(column);
    EXPECT_OK(handle);
    if (!handle.is_ok()) return 0;
    size_t count = 0;
    EXPECT_OK(handle.value()->scan("", [&count](BytesView, BytesView) {
      ++count;
      return true;
    }));
    return count;
  }

  TempDir directory_;
  std::string redis_prefix_;
  std::shared_ptr<ManualClock> clock_;
  std::shared_ptr<MemoryBackend> memory_;  // set for the memory backend
  std::shared_ptr<StateBackend> backend_;
  std::unique_ptr<KeyedStateStore> store_;
};

}  // namespace streamstate::testing
