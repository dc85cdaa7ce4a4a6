// Helpers the Redis backend tests share: a key prefix private to the running test, opening a
// backend (the test fails with the status when it cannot be opened), and a counter update.
//
// Thread-safety: unique_redis_prefix and increment_counter may be called from any thread;
// open_redis_backend reports failures to the current test.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "streamstate/redis.h"

namespace streamstate::testing {

// A key prefix no other test (of this or another process) uses; new on every call, so that
// repeated runs (--gtest_repeat) start from empty state. `tag` tells the test files apart.
inline std::string unique_redis_prefix(std::string_view tag) {
  static std::atomic<int> calls{0};
  const std::string name = ::testing::UnitTest::GetInstance()->current_test_info()->name();
  return std::string(tag) + std::to_string(getpid()) + "-" + std::to_string(++calls) + "-" + name.substr(0, 40);
}

// The backend, or nullptr after failing the current test with the reason.
inline std::unique_ptr<RedisBackend> open_redis_backend(const RedisBackendOptions& options) {
  Result<std::unique_ptr<RedisBackend>> backend = RedisBackend::open(options);
  EXPECT_TRUE(backend.is_ok()) << backend.status().to_string();
  return backend.is_ok() ? std::move(backend).value() : nullptr;
}

// An update function: the decimal counter stored under the key, plus one (absent = 0).
inline std::optional<std::string> increment_counter(std::optional<BytesView> current) {
  const long value = current.has_value() ? std::stol(std::string(*current)) : 0;
  return std::to_string(value + 1);
}

}  // namespace streamstate::testing
