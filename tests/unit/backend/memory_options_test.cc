// Validation of MemoryBackendOptions: each bad value is rejected with a message that names the
// option and says how to fix it; good edge values are accepted.
#include <gtest/gtest.h>

#include <chrono>

#include "streamstate/memory.h"
#include "testutil/status_matchers.h"

namespace streamstate {
namespace {

using std::chrono::milliseconds;

TEST(MemoryOptionsTest, DefaultsOpen) {
  auto backend = MemoryBackend::open({});
  ASSERT_OK(backend);
  EXPECT_EQ(backend.value()->kind(), "memory");
  const BackendCapabilities caps = backend.value()->capabilities();
  EXPECT_FALSE(caps.ordered_scan);
  EXPECT_FALSE(caps.persistent);
  EXPECT_TRUE(caps.thread_safe);
  EXPECT_FALSE(caps.shared_between_processes);
}

TEST(MemoryOptionsTest, ShardCountMustBeBetweenOneAnd4096) {
  MemoryBackendOptions options;
  options.shard_count = 0;
  EXPECT_STATUS(MemoryBackend::open(options), StatusCode::kInvalidArgument, "shard_count is 0; use 1..4096");
  options.shard_count = 4097;
  EXPECT_STATUS(MemoryBackend::open(options), StatusCode::kInvalidArgument, "shard_count is 4097; use 1..4096");
  for (uint32_t count : {1u, 3u, 64u, 1000u, 4096u}) {
    options.shard_count = count;
    EXPECT_OK(MemoryBackend::open(options));
  }
}

TEST(MemoryOptionsTest, DurationsMustNotBeNegative) {
  MemoryBackendOptions options;
  options.ttl = milliseconds(-1);
  EXPECT_STATUS(MemoryBackend::open(options), StatusCode::kInvalidArgument, "ttl is negative (-1 ms)");
  options.ttl = milliseconds(10);
  options.cleanup_interval = milliseconds(-5);
  EXPECT_STATUS(MemoryBackend::open(options), StatusCode::kInvalidArgument,
                "cleanup_interval is negative (-5 ms)");
}

// Without a backend-wide ttl the thread still cleans columns opened with values_carry_expiry
// (see memory_expiring_column_test.cc), so any positive interval is accepted.
TEST(MemoryOptionsTest, CleanupIntervalWithoutATtlIsAccepted) {
  MemoryBackendOptions options;
  options.cleanup_interval = std::chrono::hours(1000);
  auto backend = MemoryBackend::open(options);
  ASSERT_OK(backend);
  EXPECT_OK(backend.value()->close());
}

TEST(MemoryOptionsTest, CleanupIntervalMustNotExceedTheTtl) {
  MemoryBackendOptions options;
  options.ttl = milliseconds(100);
  options.cleanup_interval = milliseconds(101);
  EXPECT_STATUS(MemoryBackend::open(options), StatusCode::kInvalidArgument,
                "cleanup_interval (101 ms) exceeds the ttl (100 ms)");
  options.cleanup_interval = milliseconds(100);
  auto backend = MemoryBackend::open(options);
  ASSERT_OK(backend);
  EXPECT_OK(backend.value()->close());
}

TEST(MemoryOptionsTest, TtlWithoutCleanupThreadAndSizeLimitsAreAccepted) {
  MemoryBackendOptions options;
  options.ttl = milliseconds(1);
  options.refresh_ttl_on_read = true;
  options.max_entries = 1;
  options.max_bytes = 1;
  auto backend = MemoryBackend::open(options);
  ASSERT_OK(backend);
  auto column = backend.value()->column("c");
  ASSERT_OK(column);
  // With max_bytes 1, only entries of at most one byte fit.
  EXPECT_OK(column.value()->put("k", ""));
  EXPECT_STATUS(column.value()->put("k", "v"), StatusCode::kInvalidArgument, "raise MemoryBackendOptions.max_bytes");
}

}  // namespace
}  // namespace streamstate
