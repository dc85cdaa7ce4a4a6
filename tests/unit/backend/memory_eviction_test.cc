// Size limits of the memory backend: exact least-recently-used order within a shard (reads
// and writes refresh recency), eviction by entry count and by bytes, eviction statistics, the
// shard-count adjustment, and that no limit is ever exceeded with many shards.
#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <set>
#include <string>

#include "streamstate/memory.h"
#include "testutil/status_matchers.h"

namespace streamstate {
namespace {

struct Fixture {
  std::unique_ptr<MemoryBackend> backend;
  std::shared_ptr<StateColumn> column;

  explicit Fixture(const MemoryBackendOptions& options) {
    auto opened = MemoryBackend::open(options);
    EXPECT_OK(opened);
    backend = std::move(opened).value();
    column = backend->column("c").value();
  }

  std::set<std::string> keys() {
    std::set<std::string> found;
    EXPECT_OK(column->scan("", [&found](BytesView key, BytesView) {
      found.emplace(key);
      return true;
    }));
    return found;
  }
};

MemoryBackendOptions single_shard(uint64_t max_entries, uint64_t max_bytes) {
  MemoryBackendOptions options;
  options.shard_count = 1;
  options.max_entries = max_entries;
  options.max_bytes = max_bytes;
  return options;
}

TEST(MemoryEvictionTest, EvictsTheLeastRecentlyWrittenFirst) {
  Fixture f(single_shard(3, 0));
  for (const char* key : {"a", "b", "c"}) ASSERT_OK(f.column->put(key, "v"));
  ASSERT_OK(f.column->put("d", "v"));
  EXPECT_EQ(f.keys(), (std::set<std::string>{"b", "c", "d"}));
  ASSERT_OK(f.column->put("e", "v"));
  EXPECT_EQ(f.keys(), (std::set<std::string>{"c", "d", "e"}));
  EXPECT_EQ(f.backend->statistics().evictions, 2u);
}

TEST(MemoryEvictionTest, ReadsAndOverwritesRefreshRecency) {
  Fixture f(single_shard(3, 0));
  for (const char* key : {"a", "b", "c"}) ASSERT_OK(f.column->put(key, "v"));
  ASSERT_TRUE(f.column->get("a").value().has_value());  // order: b c a
  ASSERT_OK(f.column->put("d", "v"));                     // evicts b
  EXPECT_EQ(f.keys(), (std::set<std::string>{"a", "c", "d"}));
  ASSERT_OK(f.column->put("c", "v2"));                    // order: a d c
  ASSERT_TRUE(f.column->contains("a").value());           // order: d c a
  ASSERT_OK(f.column->put("e", "v"));                     // evicts d
  EXPECT_EQ(f.keys(), (std::set<std::string>{"a", "c", "e"}));
  ASSERT_OK(f.column->update("a", [](std::optional<BytesView>) { return std::optional<std::string>("u"); }));
  ASSERT_OK(f.column->put("f", "v"));  // order was c e a: evicts c
  EXPECT_EQ(f.keys(), (std::set<std::string>{"a", "e", "f"}));
  // A scan is not a use: it does not refresh recency.
  ASSERT_OK(f.column->put("g", "v"));  // evicts e
  EXPECT_EQ(f.keys(), (std::set<std::string>{"a", "f", "g"}));
  EXPECT_EQ(f.backend->statistics().evictions, 4u);
}

TEST(MemoryEvictionTest, LruIsSharedByAllColumnsOfAShard) {
  Fixture f(single_shard(2, 0));
  auto other = f.backend->column("other").value();
  ASSERT_OK(f.column->put("k", "1"));
  ASSERT_OK(other->put("k", "2"));
  ASSERT_OK(f.column->put("j", "3"));  // evicts c/k, the oldest of the shard
  EXPECT_FALSE(f.column->contains("k").value());
  EXPECT_TRUE(other->contains("k").value());
  EXPECT_TRUE(f.column->contains("j").value());
}

TEST(MemoryEvictionTest, LruOrderSurvivesTableGrowth) {
  // 1,000 entries grow the shard's tables many times over (their slots move each time); the
  // recency order must still be exact afterwards.
  Fixture f(single_shard(1000, 0));
  auto other = f.backend->column("other").value();
  for (int i = 0; i < 1000; ++i) {
    ASSERT_OK((i % 2 == 0 ? f.column : other)->put("k" + std::to_string(i), "v"));
  }
  for (int i = 0; i < 100; ++i) {  // the first 100 become the most recent
    ASSERT_TRUE((i % 2 == 0 ? f.column : other)->contains("k" + std::to_string(i)).value());
  }
  for (int i = 0; i < 150; ++i) ASSERT_OK(f.column->put("n" + std::to_string(i), "v"));
  for (int i = 0; i < 1000; ++i) {
    const bool kept = i < 100 || i >= 250;  // k100..k249 were the 150 least recent
    EXPECT_EQ((i % 2 == 0 ? f.column : other)->contains("k" + std::to_string(i)).value(), kept) << i;
  }
  const BackendStatistics stats = f.backend->statistics();
  EXPECT_EQ(stats.live_entries, 1000u);
  EXPECT_EQ(stats.evictions, 150u);
}

TEST(MemoryEvictionTest, ClearedAndDroppedEntriesLeaveTheLruOrder) {
  Fixture f(single_shard(4, 0));
  auto other = f.backend->column("other").value();
  ASSERT_OK(other->put("o1", "v"));
  ASSERT_OK(f.column->put("a", "v"));
  ASSERT_OK(other->put("o2", "v"));
  ASSERT_OK(f.column->put("b", "v"));
  ASSERT_OK(other->clear());
  EXPECT_EQ(f.backend->statistics().live_entries, 2u);
  // Only a and b count now: two more entries fit without an eviction.
  ASSERT_OK(f.column->put("c", "v"));
  ASSERT_OK(f.column->put("d", "v"));
  EXPECT_EQ(f.backend->statistics().evictions, 0u);
  ASSERT_OK(f.column->put("e", "v"));  // evicts a
  EXPECT_EQ(f.keys(), (std::set<std::string>{"b", "c", "d", "e"}));

  auto doomed = f.backend->column("doomed").value();
  ASSERT_OK(doomed->put("x", "v"));  // evicts b
  ASSERT_OK(f.backend->drop_column("doomed"));
  ASSERT_OK(f.column->put("f", "v"));  // room left by x: no eviction
  EXPECT_EQ(f.keys(), (std::set<std::string>{"c", "d", "e", "f"}));
  const BackendStatistics stats = f.backend->statistics();
  EXPECT_EQ(stats.evictions, 2u);
  EXPECT_EQ(stats.live_entries, 4u);
}

TEST(MemoryEvictionTest, ByteLimitCountsKeysAndValues) {
  Fixture f(single_shard(0, 20));
  ASSERT_OK(f.column->put("k1", "12345678"));  // 10 bytes
  ASSERT_OK(f.column->put("k2", "12345678"));  // 20 bytes
  EXPECT_EQ(f.backend->statistics().evictions, 0u);
  ASSERT_OK(f.column->put("k3", "1"));  // 23 bytes: k1 goes
  EXPECT_EQ(f.keys(), (std::set<std::string>{"k2", "k3"}));
  EXPECT_EQ(f.backend->statistics().bytes_in_use, 13u);
  // Growing a value in place can evict several older entries.
  ASSERT_OK(f.column->put("k3", std::string(18, 'x')));  // 20 + 10 > 20: k2 goes
  EXPECT_EQ(f.keys(), (std::set<std::string>{"k3"}));
  BackendStatistics stats = f.backend->statistics();
  EXPECT_EQ(stats.bytes_in_use, 20u);
  EXPECT_EQ(stats.evictions, 2u);
}

TEST(MemoryEvictionTest, EntryLargerThanAShardsByteShareIsRejected) {
  Fixture f(single_shard(0, 20));
  ASSERT_OK(f.column->put("keep", "v"));
  EXPECT_STATUS(f.column->put("big", std::string(18, 'x')), StatusCode::kInvalidArgument, "max_bytes");
  EXPECT_STATUS(f.column->update("big", [](std::optional<BytesView>) { return std::string(30, 'x'); }),
                StatusCode::kInvalidArgument, "'big'");
  WriteBatch batch;
  batch.put("c", "small", "v");
  batch.put("c", "big", std::string(30, 'x'));
  EXPECT_STATUS(f.backend->write(batch), StatusCode::kInvalidArgument, "nothing was written");
  EXPECT_EQ(f.keys(), (std::set<std::string>{"keep"}));
}

TEST(MemoryEvictionTest, ShardCountIsLoweredSoEveryShardHoldsSixteenEntries) {
  // 20 entries allow a single shard; spread over the default 64 shards, most shards would
  // hold no entry at all and the first collisions would evict long before 20 entries.
  MemoryBackendOptions options;
  options.max_entries = 20;
  Fixture f(options);
  for (int i = 0; i < 20; ++i) ASSERT_OK(f.column->put("k" + std::to_string(i), "v"));
  EXPECT_EQ(f.backend->statistics().live_entries, 20u);
  EXPECT_EQ(f.backend->statistics().evictions, 0u);
  ASSERT_TRUE(f.column->contains("k0").value());  // k0 becomes the most recent
  for (int i = 0; i < 19; ++i) ASSERT_OK(f.column->put("n" + std::to_string(i), "v"));
  BackendStatistics stats = f.backend->statistics();
  EXPECT_EQ(stats.live_entries, 20u);
  EXPECT_EQ(stats.evictions, 19u);
  EXPECT_TRUE(f.column->contains("k0").value());
  for (int i = 1; i < 20; ++i) EXPECT_FALSE(f.column->contains("k" + std::to_string(i)).value()) << i;
}

// Fills a backend with far more than its limits allow, checking the totals as it goes.
void fill_and_check_limits(const MemoryBackendOptions& options, int keys, uint64_t expected_min_live) {
  Fixture f(options);
  for (int i = 0; i < keys; ++i) {
    // Values of varying size, so shards fill unevenly.
    ASSERT_OK(f.column->put("key-" + std::to_string(i), std::string(static_cast<size_t>(i % 120), 'v')));
    if (i % 2000 == 0 || i == keys - 1) {
      const BackendStatistics stats = f.backend->statistics();
      if (options.max_entries != 0) {
        ASSERT_LE(stats.live_entries, options.max_entries) << "after " << i;
      }
      if (options.max_bytes != 0) {
        ASSERT_LE(stats.bytes_in_use, options.max_bytes) << "after " << i;
      }
    }
  }
  const BackendStatistics stats = f.backend->statistics();
  EXPECT_EQ(stats.evictions + stats.live_entries, static_cast<uint64_t>(keys));
  // Every shard is full, so the total is close to the limit rather than far under it.
  EXPECT_GE(stats.live_entries, expected_min_live);
  EXPECT_EQ(stats.live_entries, f.keys().size());
}

TEST(MemoryEvictionTest, EntryLimitIsNeverExceededWithManyShards) {
  MemoryBackendOptions options;
  options.shard_count = 4096;  // lowered to 1024 shards of 19 or 20 entries
  options.max_entries = 20'000;
  fill_and_check_limits(options, 60'000, 19'000);
}

TEST(MemoryEvictionTest, ByteLimitIsNeverExceededWithManyShards) {
  MemoryBackendOptions options;
  options.shard_count = 4096;  // lowered to 128 shards of 4 KiB
  options.max_bytes = 512 * 1024;
  fill_and_check_limits(options, 60'000, 6'000);
}

TEST(MemoryEvictionTest, BatchesEvictToo) {
  Fixture f(single_shard(4, 0));
  WriteBatch batch;
  for (int i = 0; i < 6; ++i) batch.put("c", "k" + std::to_string(i), "v");
  ASSERT_OK(f.backend->write(batch));
  EXPECT_EQ(f.keys(), (std::set<std::string>{"k2", "k3", "k4", "k5"}));
  EXPECT_EQ(f.backend->statistics().evictions, 2u);
}

TEST(MemoryEvictionTest, ExpiredVictimCountsAsExpirationNotEviction) {
  auto clock = std::make_shared<ManualClock>(0);
  MemoryBackendOptions options = single_shard(2, 0);
  options.ttl = std::chrono::milliseconds(100);
  options.clock = clock;
  Fixture f(options);
  ASSERT_OK(f.column->put("a", "v"));
  clock->advance_millis(50);
  ASSERT_OK(f.column->put("b", "v"));
  clock->advance_millis(60);  // a expired, b live
  ASSERT_OK(f.column->put("c", "v"));  // the LRU victim is the expired a
  ASSERT_OK(f.column->put("d", "v"));  // the LRU victim is the live b
  BackendStatistics stats = f.backend->statistics();
  EXPECT_EQ(stats.expirations, 1u);
  EXPECT_EQ(stats.evictions, 1u);
  EXPECT_EQ(f.keys(), (std::set<std::string>{"c", "d"}));
}

}  // namespace
}  // namespace streamstate
