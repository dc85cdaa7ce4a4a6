// The write-back cache's own promises, checked against what reaches the inner backend: writes
// wait in memory until a flush, repeated writes of a key reach it once, tombstones hide inner
// values, the memory bound flushes, snapshots and change-tracker snapshots include cached
// writes, clean reads are served from memory within their budget.
#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "streamstate/change_tracking.h"
#include "streamstate/memory.h"
#include "streamstate/write_back_cache.h"
#include "streamstate/write_batch.h"
#include "testutil/status_matchers.h"

namespace streamstate {
namespace {

struct Fixture {
  explicit Fixture(WriteBackCacheOptions options = {}, MemoryBackendOptions memory = {}) {
    inner = std::shared_ptr<StateBackend>(MemoryBackend::open(memory).value());
    cache = open_write_back_cache(inner, options).value();
  }
  std::shared_ptr<StateColumn> inner_column(const std::string& name) { return inner->column(name).value(); }
  std::optional<std::string> inner_value(const std::string& column, const std::string& key) {
    return inner_column(column)->get(key).value();
  }

  std::shared_ptr<StateBackend> inner;
  std::shared_ptr<WriteBackCache> cache;
};

std::optional<std::string> value_of(StateColumn& column, const std::string& key) { return column.get(key).value(); }

TEST(WriteBackCache, WritesReachTheInnerBackendOnlyAtAFlush) {
  Fixture f;
  auto column = f.cache->column("c").value();
  ASSERT_OK(column->put("k", "v"));
  EXPECT_EQ(value_of(*column, "k"), "v");
  EXPECT_EQ(f.inner_value("c", "k"), std::nullopt) << "a put went through to the inner backend before a flush";
  EXPECT_EQ(f.cache->cache_statistics().dirty_entries, 1u);

  ASSERT_OK(f.cache->flush());
  EXPECT_EQ(f.inner_value("c", "k"), "v");
  const WriteBackCacheStatistics stats = f.cache->cache_statistics();
  EXPECT_EQ(stats.flushes, 1u);
  EXPECT_EQ(stats.flushed_entries, 1u);
  EXPECT_EQ(stats.bytes_flushed, std::string("ckv").size());
  EXPECT_EQ(stats.dirty_entries, 0u);
  EXPECT_EQ(stats.dirty_bytes, 0u);
  ASSERT_OK(f.cache->flush());
  EXPECT_EQ(f.cache->cache_statistics().flushes, 1u) << "a flush with nothing dirty counts as a flush";
}

TEST(WriteBackCache, RepeatedUpdatesOfHotKeysReachTheInnerBackendOnceInOneBatch) {
  Fixture f;
  auto column = f.cache->column("counts").value();
  const UpdateFunction increment = [](std::optional<BytesView> current) -> std::optional<std::string> {
    return std::to_string(current ? std::stoi(std::string(*current)) + 1 : 1);
  };
  for (int round = 0; round < 100; ++round) {
    for (int key = 0; key < 10; ++key) ASSERT_OK(column->update("key" + std::to_string(key), increment));
  }
  WriteBackCacheStatistics stats = f.cache->cache_statistics();
  EXPECT_EQ(stats.misses, 10u) << "only the first read of each key goes to the inner backend";
  EXPECT_EQ(stats.hits, 990u);
  EXPECT_EQ(stats.absorbed_writes, 990u);
  EXPECT_EQ(f.inner->statistics().puts, 0u);

  ASSERT_OK(f.cache->flush());
  const BackendStatistics below = f.inner->statistics();
  EXPECT_EQ(below.puts, 10u) << "each hot key should reach the inner backend once";
  EXPECT_EQ(below.batches, 1u) << "a flush is one write batch";
  for (int key = 0; key < 10; ++key) EXPECT_EQ(f.inner_value("counts", "key" + std::to_string(key)), "100");

  // As the caller sees it, every update was a put.
  EXPECT_EQ(f.cache->statistics().puts, 1000u);
}

TEST(WriteBackCache, ARemoveIsATombstoneThatHidesTheInnerValueUntilTheFlushRemovesIt) {
  Fixture f;
  ASSERT_OK(f.inner_column("c")->put("k", "old"));
  auto column = f.cache->column("c").value();
  EXPECT_EQ(value_of(*column, "k"), "old");
  ASSERT_OK(column->remove("k"));
  EXPECT_EQ(value_of(*column, "k"), std::nullopt);
  EXPECT_FALSE(column->contains("k").value());
  bool updated_with_value = false;
  ASSERT_OK(column->update("k", [&](std::optional<BytesView> current) -> std::optional<std::string> {
    updated_with_value = current.has_value();
    return std::nullopt;
  }));
  EXPECT_FALSE(updated_with_value) << "update() saw the inner value behind a tombstone";
  EXPECT_EQ(f.inner_value("c", "k"), "old");

  ASSERT_OK(f.cache->flush());
  EXPECT_EQ(f.inner_value("c", "k"), std::nullopt);
  EXPECT_EQ(value_of(*column, "k"), std::nullopt);
}

TEST(WriteBackCache, ReachingMaxBytesFlushesByItself) {
  Fixture f(WriteBackCacheOptions{.max_bytes = 4096});
  auto column = f.cache->column("c").value();
  const std::string value(200, 'x');
  int written = 0;
  while (f.cache->cache_statistics().automatic_flushes == 0) {
    ASSERT_LT(written, 100) << "no flush after " << written << " writes of 200 bytes with max_bytes 4096";
    ASSERT_OK(column->put("k" + std::to_string(written++), value));
  }
  // Entries count key + 200 + 64 bytes: 15 of them are 3995 bytes, the 16th reaches 4096.
  EXPECT_EQ(written, 16);
  EXPECT_LT(f.cache->cache_statistics().dirty_bytes, 4096u);
  for (int i = 0; i < written; ++i) EXPECT_EQ(f.inner_value("c", "k" + std::to_string(i)), value) << i;
}

TEST(WriteBackCache, SnapshotsAndTrackedSnapshotsHoldEveryCachedWrite) {
  MemoryBackendOptions tracking;
  tracking.track_changes = true;
  Fixture f({}, tracking);
  auto column = f.cache->column("c").value();
  ASSERT_OK(column->put("a", "1"));
  ASSERT_OK(column->put("b", "2"));
  ASSERT_OK(column->remove("b"));
  std::unique_ptr<BackendSnapshot> snapshot = f.cache->snapshot().value();
  std::string value;
  EXPECT_TRUE(snapshot->get("c", "a", &value).value());
  EXPECT_EQ(value, "1");
  EXPECT_FALSE(snapshot->get("c", "b", &value).value());

  ChangeTracker* tracker = f.cache->change_tracker();
  ASSERT_NE(tracker, nullptr) << "the inner backend tracks changes; the cache must pass its tracker on";
  ASSERT_OK(column->put("d", "4"));
  Result<TrackedSnapshot> tracked = tracker->snapshot_with_changes();
  ASSERT_OK(tracked.status());
  EXPECT_TRUE(tracked->snapshot->get("c", "d", &value).value()) << "a tracked snapshot missed a cached write";
  EXPECT_EQ(value, "4");
}

TEST(WriteBackCache, CleanReadsAreServedFromMemoryWithinTheirBudget) {
  Fixture f(WriteBackCacheOptions{.max_clean_bytes = 16 << 10, .shards = 1});
  ASSERT_OK(f.inner_column("c")->put("k", "v"));
  auto column = f.cache->column("c").value();
  EXPECT_EQ(value_of(*column, "k"), "v");
  EXPECT_EQ(value_of(*column, "k"), "v");
  EXPECT_FALSE(column->contains("absent").value());
  EXPECT_FALSE(column->contains("absent").value());
  EXPECT_EQ(f.inner->statistics().gets, 2u) << "a clean read (or a known absence) went to the inner backend again";
  EXPECT_EQ(f.cache->cache_statistics().hits, 2u);

  // Many distinct reads never hold more than the budget.
  for (int i = 0; i < 2000; ++i) {
    ASSERT_OK(f.inner_column("c")->put("many" + std::to_string(i), std::string(100, 'y')));
  }
  for (int i = 0; i < 2000; ++i) EXPECT_EQ(value_of(*column, "many" + std::to_string(i)), std::string(100, 'y'));
  EXPECT_LE(f.cache->cache_statistics().clean_bytes, 16u << 10);
  EXPECT_GT(f.cache->cache_statistics().clean_entries, 0u);
}

TEST(WriteBackCache, WithoutACleanBudgetEveryUnwrittenKeyIsReadBelow) {
  Fixture f(WriteBackCacheOptions{.max_clean_bytes = 0});
  ASSERT_OK(f.inner_column("c")->put("k", "v"));
  auto column = f.cache->column("c").value();
  EXPECT_EQ(value_of(*column, "k"), "v");
  EXPECT_EQ(value_of(*column, "k"), "v");
  EXPECT_EQ(f.inner->statistics().gets, 2u);
  ASSERT_OK(column->put("w", "x"));
  ASSERT_OK(f.cache->flush());
  EXPECT_EQ(value_of(*column, "w"), "x");
  EXPECT_EQ(f.inner->statistics().gets, 3u) << "a flushed entry was kept as a clean one without a budget";
  EXPECT_EQ(f.cache->cache_statistics().clean_entries, 0u);
}

TEST(WriteBackCache, BatchesAreAbsorbedWholeAndRefusedWholeForAnUnknownColumn) {
  Fixture f;
  auto column = f.cache->column("c").value();
  EXPECT_NE(f.inner_column("opened-below"), nullptr);  // exists, never opened through the cache
  WriteBatch batch;
  batch.put("c", "a", "1");
  batch.put("opened-below", "b", "2");
  ASSERT_OK(f.cache->write(batch));
  EXPECT_EQ(f.inner_value("c", "a"), std::nullopt);
  EXPECT_EQ(value_of(*column, "a"), "1");

  WriteBatch unknown;
  unknown.put("c", "a", "changed");
  unknown.put("nosuch", "k", "v");
  EXPECT_STATUS(f.cache->write(unknown), StatusCode::kNotFound, "nosuch");
  EXPECT_EQ(value_of(*column, "a"), "1") << "part of a refused batch was applied";

  ASSERT_OK(f.cache->flush());
  EXPECT_EQ(f.inner_value("c", "a"), "1");
  EXPECT_EQ(f.inner_value("opened-below", "b"), "2");
}

TEST(WriteBackCache, PutEntriesReplaceCachedEntriesOfTheirKeys) {
  Fixture f;
  auto column = f.cache->column("c").value();
  ASSERT_OK(column->put("k", "cached"));
  ASSERT_OK(column->put("other", "cached"));
  const std::vector<std::pair<BytesView, BytesView>> entries = {{"k", "restored"}};
  ASSERT_OK(f.cache->put_entries("c", entries));
  EXPECT_EQ(value_of(*column, "k"), "restored");
  ASSERT_OK(f.cache->flush());
  EXPECT_EQ(f.inner_value("c", "k"), "restored") << "a flush wrote an older cached value over put_entries'";
  EXPECT_EQ(f.inner_value("c", "other"), "cached");
}

TEST(WriteBackCache, CloseFlushesAndClosesTheInnerBackend) {
  Fixture f;
  auto column = f.cache->column("c").value();
  ASSERT_OK(column->put("k", "v"));
  // Read before close through a handle of the inner backend.
  auto below = f.inner_column("c");
  ASSERT_OK(f.cache->close());
  EXPECT_STATUS(below->get("k"), StatusCode::kClosed, "");
  EXPECT_STATUS(column->put("k", "w"), StatusCode::kClosed, "write-back cache");
  EXPECT_EQ(f.cache->cache_statistics().flushed_entries, 1u);
}

TEST(WriteBackCache, DestroyingTheCacheWithoutCloseFlushesIt) {
  Fixture f;
  ASSERT_OK(f.cache->column("c").value()->put("k", "v"));
  f.cache.reset();
  EXPECT_EQ(f.inner_value("c", "k"), "v");
}

TEST(WriteBackCache, OptionsOutOfRangeAreRefusedNamingTheOption) {
  auto inner = std::shared_ptr<StateBackend>(MemoryBackend::open({}).value());
  EXPECT_STATUS(open_write_back_cache(inner, {.max_bytes = 100}), StatusCode::kInvalidArgument, "max_bytes");
  EXPECT_STATUS(open_write_back_cache(inner, {.shards = 0}), StatusCode::kInvalidArgument, "shards");
  EXPECT_STATUS(open_write_back_cache(inner, {.shards = 5000}), StatusCode::kInvalidArgument, "shards");
  EXPECT_STATUS(open_write_back_cache(nullptr), StatusCode::kInvalidArgument, "null");
}

TEST(WriteBackCache, AHandleOfADroppedColumnIsNotFoundAndItsWritesAreGone) {
  Fixture f;
  auto column = f.cache->column("c").value();
  ASSERT_OK(column->put("k", "v"));
  ASSERT_OK(f.cache->drop_column("c"));
  EXPECT_STATUS(column->get("k"), StatusCode::kNotFound, "dropped");
  EXPECT_EQ(f.cache->cache_statistics().dirty_entries, 0u);
  auto again = f.cache->column("c").value();
  EXPECT_EQ(value_of(*again, "k"), std::nullopt);
  ASSERT_OK(f.cache->flush());
  EXPECT_EQ(f.inner_value("c", "k"), std::nullopt);
}

}  // namespace
}  // namespace streamstate
