// ExpirySweepingBackend: the wrapper that gives backends without their own cleanup thread
// (rocksdb, redis) a cleanup interval for expiring columns.
#include "streamstate/backend_registry.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>

#include "backend_registry_test_util.h"
#include "custom_backend/ordered_map_backend.h"
#include "testutil/status_matchers.h"

namespace streamstate {
namespace {

using namespace registry_test;
using std::chrono::milliseconds;

// ---- ExpirySweepingBackend on its own

TEST(ExpirySweepingBackendTest, SweepsOnlyExpiredEntriesOfExpiringColumns) {
  auto clock = std::make_shared<ManualClock>(kStart);
  auto opened =
      ExpirySweepingBackend::open(examples::open_ordered_map_backend().value(), std::chrono::hours(1), clock);
  ASSERT_OK(opened);
  ExpirySweepingBackend& backend = **opened;
  auto expiring_column = column_of(backend, "expiring", true);
  auto plain = column_of(backend, "plain", false);
  EXPECT_EQ(backend.expiring_columns(), std::vector<std::string>{"expiring"});
  ASSERT_OK(expiring_column->put("a", with_expiry(kStart + 10, "x")));
  ASSERT_OK(expiring_column->put("b", with_expiry(kStart + 20, "y")));
  ASSERT_OK(expiring_column->put("short", "abc"));  // too short for a header: corrupt, left for readers
  ASSERT_OK(plain->put("a", with_expiry(kStart + 10, "x")));

  Result<uint64_t> none = backend.sweep_expired();
  ASSERT_OK(none);
  EXPECT_EQ(*none, 0u);
  clock->set_millis(kStart + 10);
  Result<uint64_t> one = backend.sweep_expired();
  ASSERT_OK(one);
  EXPECT_EQ(*one, 1u);
  EXPECT_FALSE(expiring_column->contains("a").value());
  EXPECT_TRUE(expiring_column->contains("b").value());
  EXPECT_TRUE(expiring_column->contains("short").value());
  EXPECT_TRUE(plain->contains("a").value());
  EXPECT_OK(backend.last_sweep_status());

  ASSERT_OK(backend.drop_column("expiring"));
  EXPECT_TRUE(backend.expiring_columns().empty());
  ASSERT_OK(backend.close());
  EXPECT_STATUS(backend.column("plain"), StatusCode::kClosed, "");
}

TEST(ExpirySweepingBackendTest, WithExpirySweeper) {
  EXPECT_STATUS(with_expiry_sweeper(nullptr, milliseconds(1), nullptr), StatusCode::kInvalidArgument, "null");
  EXPECT_STATUS(with_expiry_sweeper(examples::open_ordered_map_backend().value(), milliseconds(-1), nullptr),
                StatusCode::kInvalidArgument, "negative");
  auto unchanged =
      with_expiry_sweeper(examples::open_ordered_map_backend().value(), milliseconds(0), nullptr);
  ASSERT_OK(unchanged);
  EXPECT_EQ(dynamic_cast<ExpirySweepingBackend*>(unchanged.value().get()), nullptr);
  auto wrapped = with_expiry_sweeper(examples::open_ordered_map_backend().value(), milliseconds(5), nullptr);
  ASSERT_OK(wrapped);
  EXPECT_NE(dynamic_cast<ExpirySweepingBackend*>(wrapped.value().get()), nullptr);
  EXPECT_EQ(wrapped.value()->kind(), "ordered_map");
  EXPECT_STATUS(
      ExpirySweepingBackend::open(examples::open_ordered_map_backend().value(), milliseconds(0), nullptr),
      StatusCode::kInvalidArgument, "sweep interval is 0 ms");
}

TEST(ExpirySweepingBackendTest, ThreadKeepsValuesRewrittenConcurrently) {
  auto clock = std::make_shared<ManualClock>(kStart);
  auto opened =
      ExpirySweepingBackend::open(examples::open_ordered_map_backend().value(), milliseconds(1), clock);
  ASSERT_OK(opened);
  auto column = column_of(**opened, "expiring", true);
  // Writers keep rewriting keys with a fresh expiry while the sweeper runs every millisecond;
  // every key a writer finished with must still be there.
  std::vector<std::thread> writers;
  for (int t = 0; t < 4; ++t) {
    writers.emplace_back([&, t] {
      for (int i = 0; i < 300; ++i) {
        const std::string key = "w" + std::to_string(t) + "-" + std::to_string(i % 20);
        EXPECT_OK(column->put(key, with_expiry(clock->now_millis() + 1'000'000, "live")));
        if (i % 50 == 0) clock->advance_millis(10);
      }
    });
  }
  for (auto& writer : writers) writer.join();
  ASSERT_OK((*opened)->sweep_expired());
  EXPECT_EQ(entry_count(*column), 80u);
  EXPECT_OK((*opened)->last_sweep_status());
}


}  // namespace
}  // namespace streamstate
