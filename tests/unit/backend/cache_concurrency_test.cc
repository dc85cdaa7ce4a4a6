// Concurrent updates through the write-back cache while it flushes by itself (a tiny max_bytes)
// and while another thread takes snapshots and flushes: no increment is lost or doubled, in the
// cache or in the inner backend, and every snapshot shows each counter at a value it really had.
#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "streamstate/memory.h"
#include "streamstate/write_back_cache.h"
#include "testutil/status_matchers.h"

namespace streamstate {
namespace {

constexpr int kThreads = 4;
constexpr int kKeys = 200;
constexpr int kRounds = 50;  // each thread increments every key this many times

TEST(WriteBackCacheConcurrency, UpdatesRacingWithFlushesAndSnapshotsLoseNothing) {
  auto inner = std::shared_ptr<StateBackend>(MemoryBackend::open({}).value());
  std::shared_ptr<WriteBackCache> cache =
      open_write_back_cache(inner, {.max_bytes = 4096, .max_clean_bytes = 2048, .shards = 4}).value();
  auto column = cache->column("counts").value();
  const UpdateFunction increment = [](std::optional<BytesView> current) -> std::optional<std::string> {
    return std::to_string(current ? std::stoll(std::string(*current)) + 1 : 1);
  };
  std::atomic<int> running{kThreads};
  std::atomic<int> bad_snapshots{0};
  {
    std::vector<std::jthread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        for (int round = 0; round < kRounds; ++round) {
          for (int k = 0; k < kKeys; ++k) {
            EXPECT_OK(column->update("key" + std::to_string((k + t * 7) % kKeys), increment));
          }
        }
        running.fetch_sub(1);
      });
    }
    threads.emplace_back([&] {
      while (running.load() > 0) {
        EXPECT_OK(cache->flush());
        Result<std::unique_ptr<BackendSnapshot>> snapshot = cache->snapshot();
        ASSERT_TRUE(snapshot.is_ok()) << snapshot.status().to_string();
        std::string value;
        for (int k = 0; k < kKeys; k += 17) {
          Result<bool> found = (*snapshot)->get("counts", "key" + std::to_string(k), &value);
          if (!found.is_ok() || (*found && (std::stoll(value) < 1 || std::stoll(value) > kThreads * kRounds))) {
            bad_snapshots.fetch_add(1);
          }
        }
      }
    });
  }
  EXPECT_EQ(bad_snapshots.load(), 0);
  EXPECT_GT(cache->cache_statistics().automatic_flushes, 0u) << "max_bytes 4096 never flushed by itself";
  const std::string expected = std::to_string(kThreads * kRounds);
  for (int k = 0; k < kKeys; ++k) EXPECT_EQ(column->get("key" + std::to_string(k)).value(), expected) << k;
  ASSERT_OK(cache->flush());
  auto below = inner->column("counts").value();
  for (int k = 0; k < kKeys; ++k) EXPECT_EQ(below->get("key" + std::to_string(k)).value(), expected) << k;
}

}  // namespace
}  // namespace streamstate
