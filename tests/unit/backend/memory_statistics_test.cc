// Exact statistics of the memory backend: every counter after a known sequence of operations,
// summed over many shards.
#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <string>

#include "streamstate/memory.h"
#include "testutil/status_matchers.h"

namespace streamstate {
namespace {

TEST(MemoryStatisticsTest, CountsEveryOperationExactly) {
  auto backend = MemoryBackend::open({}).value();
  auto column = backend->column("c").value();
  EXPECT_EQ(backend->statistics().gets, 0u);

  for (int i = 0; i < 10; ++i) ASSERT_OK(column->put("key" + std::to_string(i), "value"));  // 10 x 9 bytes
  ASSERT_OK(column->put("key0", "longer-value"));                                          // overwrite: +7 bytes
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(column->get("key" + std::to_string(i)).value().has_value());
  ASSERT_FALSE(column->get("absent").value().has_value());
  ASSERT_TRUE(column->contains("key1").value());
  ASSERT_FALSE(column->contains("absent").value());
  ASSERT_OK(column->remove("key9"));
  ASSERT_OK(column->remove("absent"));  // counts as a remove call
  auto store = [](std::optional<BytesView>) { return std::optional<std::string>("u"); };
  auto drop = [](std::optional<BytesView>) { return std::optional<std::string>(); };
  ASSERT_OK(column->update("key8", store));    // a put
  ASSERT_OK(column->update("key7", drop));     // a remove
  ASSERT_OK(column->update("absent", drop));   // neither
  WriteBatch batch;
  batch.put("c", "b1", "x");
  batch.put("c", "b2", "y");
  batch.remove("c", "key6");
  ASSERT_OK(backend->write(batch));
  ASSERT_OK(backend->write(WriteBatch()));
  int visited = 0;
  ASSERT_OK(column->scan("", [&visited](BytesView, BytesView) { return ++visited < 3; }));
  ASSERT_OK(column->scan("key", [](BytesView, BytesView) { return true; }));
  EXPECT_EQ(visited, 3);

  const BackendStatistics stats = backend->statistics();
  EXPECT_EQ(stats.gets, 13u);
  EXPECT_EQ(stats.hits, 11u);
  EXPECT_EQ(stats.misses, 2u);
  EXPECT_EQ(stats.puts, 14u);     // 11 puts, 1 update, 2 batch puts
  EXPECT_EQ(stats.removes, 4u);   // 2 removes, 1 update, 1 batch remove
  EXPECT_EQ(stats.scans, 2u);
  EXPECT_EQ(stats.batches, 2u);
  EXPECT_EQ(stats.evictions, 0u);
  EXPECT_EQ(stats.expirations, 0u);
  // Left: key0 (4+12), key1..key5 (5 x 9), key8 (4+1), b1 and b2 (2 x 3).
  EXPECT_EQ(stats.live_entries, 9u);
  EXPECT_EQ(stats.bytes_in_use, 16u + 45u + 5u + 6u);
  EXPECT_DOUBLE_EQ(stats.hit_rate(), 11.0 / 13.0);
}

TEST(MemoryStatisticsTest, ClearAndDropReleaseEntriesWithoutCountingRemoves) {
  auto backend = MemoryBackend::open({}).value();
  auto kept = backend->column("kept").value();
  auto cleared = backend->column("cleared").value();
  auto dropped = backend->column("dropped").value();
  for (int i = 0; i < 100; ++i) {
    const std::string key = "k" + std::to_string(i);
    ASSERT_OK(kept->put(key, "v"));
    ASSERT_OK(cleared->put(key, "v"));
    ASSERT_OK(dropped->put(key, "v"));
  }
  ASSERT_OK(cleared->clear());
  ASSERT_OK(backend->drop_column("dropped"));
  const BackendStatistics stats = backend->statistics();
  EXPECT_EQ(stats.live_entries, 100u);
  EXPECT_EQ(stats.bytes_in_use, 10u * 3 + 90u * 4);
  EXPECT_EQ(stats.removes, 0u);
  EXPECT_EQ(stats.puts, 300u);
}

TEST(MemoryStatisticsTest, RemainReadableAfterClose) {
  auto backend = MemoryBackend::open({}).value();
  auto column = backend->column("c").value();
  ASSERT_OK(column->put("k", "v"));
  ASSERT_TRUE(column->get("k").value().has_value());
  ASSERT_OK(backend->close());
  const BackendStatistics stats = backend->statistics();
  EXPECT_EQ(stats.puts, 1u);
  EXPECT_EQ(stats.hits, 1u);
  EXPECT_EQ(stats.live_entries, 0u);  // close() released the data
}

}  // namespace
}  // namespace streamstate
