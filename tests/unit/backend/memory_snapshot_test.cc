// Snapshots of the memory backend: a snapshot keeps showing the data of its moment through
// writes, removes, clears, drops, LRU touches, evictions, TTL expiry and cleanup; it filters by
// column and prefix; and it fails with kClosed after close(). (What a snapshot costs writers:
// memory_snapshot_cost_test.cc.)
#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <memory>
#include <string>

#include "streamstate/memory.h"
#include "testutil/status_matchers.h"

namespace streamstate {
namespace {

using Contents = std::map<std::string, std::string>;

Contents read_all(BackendSnapshot& snapshot, std::string_view column, BytesView prefix = {}) {
  Contents contents;
  auto it = snapshot.iterate(column, prefix);
  EXPECT_OK(it);
  if (!it.is_ok()) return contents;
  for (; it.value()->valid(); it.value()->next()) {
    EXPECT_TRUE(contents.emplace(it.value()->key(), it.value()->value()).second) << "visited twice";
  }
  EXPECT_OK(it.value()->status());
  return contents;
}

std::unique_ptr<MemoryBackend> open_backend(MemoryBackendOptions options = {}) {
  auto backend = MemoryBackend::open(options);
  EXPECT_OK(backend);
  return std::move(backend).value();
}

TEST(MemorySnapshotTest, IsolatedFromLaterWritesRemovesAndClears) {
  auto backend = open_backend();
  auto column = backend->column("c").value();
  for (int i = 0; i < 100; ++i) ASSERT_OK(column->put("k" + std::to_string(i), "v" + std::to_string(i)));
  auto snapshot = backend->snapshot().value();
  const Contents before = read_all(*snapshot, "c");
  ASSERT_EQ(before.size(), 100u);

  ASSERT_OK(column->put("k0", "changed"));
  ASSERT_OK(column->put("new", "x"));
  ASSERT_OK(column->remove("k1"));
  ASSERT_OK(column->update("k2", [](std::optional<BytesView>) { return std::optional<std::string>(); }));
  WriteBatch batch;
  batch.put("c", "k3", "batched");
  batch.remove("c", "k4");
  ASSERT_OK(backend->write(batch));
  EXPECT_EQ(read_all(*snapshot, "c"), before);

  ASSERT_OK(column->clear());
  EXPECT_EQ(read_all(*snapshot, "c"), before);
  EXPECT_EQ(backend->statistics().live_entries, 0u);
}

TEST(MemorySnapshotTest, KeepsColumnsDroppedOrCreatedLater) {
  auto backend = open_backend();
  ASSERT_OK(backend->column("b").value()->put("k", "1"));
  ASSERT_OK(backend->column("a").value()->put("k", "2"));
  auto snapshot = backend->snapshot().value();
  ASSERT_OK(backend->drop_column("b"));
  ASSERT_OK(backend->column("later").value()->put("k", "3"));
  ASSERT_OK(backend->column("b").value()->put("other", "4"));  // a new column with the old name

  EXPECT_EQ(snapshot->columns(), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(read_all(*snapshot, "b"), (Contents{{"k", "1"}}));
  EXPECT_EQ(read_all(*snapshot, "a"), (Contents{{"k", "2"}}));
  EXPECT_STATUS(snapshot->iterate("later"), StatusCode::kNotFound, "'later'");
}

TEST(MemorySnapshotTest, FiltersByColumnAndPrefix) {
  auto backend = open_backend();
  auto users = backend->column("users").value();
  auto orders = backend->column("orders").value();
  ASSERT_OK(users->put("user:1", "a"));
  ASSERT_OK(users->put("user:2", "b"));
  ASSERT_OK(users->put("admin:1", "c"));
  ASSERT_OK(users->put(std::string("user:\0z", 7), "zero"));
  ASSERT_OK(orders->put("user:1", "order"));
  auto snapshot = backend->snapshot().value();
  EXPECT_EQ(read_all(*snapshot, "users", "user:"),
            (Contents{{"user:1", "a"}, {"user:2", "b"}, {std::string("user:\0z", 7), "zero"}}));
  EXPECT_EQ(read_all(*snapshot, "users", std::string("user:\0", 6)), (Contents{{std::string("user:\0z", 7), "zero"}}));
  EXPECT_EQ(read_all(*snapshot, "orders"), (Contents{{"user:1", "order"}}));
  EXPECT_TRUE(read_all(*snapshot, "orders", "admin").empty());
}

TEST(MemorySnapshotTest, LruTouchesAndEvictionsDoNotChangeASnapshot) {
  MemoryBackendOptions options;
  options.shard_count = 1;
  options.max_entries = 3;
  auto backend = open_backend(options);
  auto column = backend->column("c").value();
  for (const char* key : {"a", "b", "c"}) ASSERT_OK(column->put(key, key));
  auto snapshot = backend->snapshot().value();
  const Contents before = read_all(*snapshot, "c");

  // Reads reorder the live LRU list; the copy must keep the order too: a is now most recent.
  ASSERT_TRUE(column->get("a").value().has_value());
  ASSERT_TRUE(column->get("b").value().has_value());
  ASSERT_OK(column->put("d", "d"));  // evicts c
  EXPECT_FALSE(column->contains("c").value());
  EXPECT_TRUE(column->contains("a").value());
  EXPECT_EQ(read_all(*snapshot, "c"), before);
  ASSERT_OK(column->put("e", "e"));  // order after the contains calls: b d a -> evicts b
  EXPECT_FALSE(column->contains("b").value());
  EXPECT_EQ(read_all(*snapshot, "c"), before);
  EXPECT_EQ(backend->statistics().evictions, 2u);
}

TEST(MemorySnapshotTest, TtlExpiryAndCleanupDoNotChangeASnapshot) {
  auto clock = std::make_shared<ManualClock>(0);
  MemoryBackendOptions options;
  options.ttl = std::chrono::milliseconds(100);
  options.refresh_ttl_on_read = true;
  options.clock = clock;
  auto backend = open_backend(options);
  auto column = backend->column("c").value();
  ASSERT_OK(column->put("a", "1"));
  ASSERT_OK(column->put("b", "2"));
  auto snapshot = backend->snapshot().value();

  clock->advance_millis(50);
  ASSERT_TRUE(column->get("a").value().has_value());  // refreshes a's TTL in the live table only
  clock->advance_millis(50);
  EXPECT_FALSE(column->get("b").value().has_value());  // removed when touched
  EXPECT_EQ(read_all(*snapshot, "c"), (Contents{{"a", "1"}, {"b", "2"}}));
  clock->advance_millis(100);
  EXPECT_EQ(backend->cleanup_expired().value(), 1u);
  EXPECT_EQ(backend->statistics().live_entries, 0u);
  EXPECT_EQ(read_all(*snapshot, "c"), (Contents{{"a", "1"}, {"b", "2"}}));
}

TEST(MemorySnapshotTest, SnapshotsTakenAtDifferentTimesEachSeeTheirMoment) {
  auto backend = open_backend();
  auto column = backend->column("c").value();
  ASSERT_OK(column->put("k", "1"));
  auto first = backend->snapshot().value();
  ASSERT_OK(column->put("k", "2"));
  auto second = backend->snapshot().value();
  ASSERT_OK(column->put("k", "3"));
  auto third = backend->snapshot().value();
  first.reset();  // releasing one in the middle must not affect the others
  EXPECT_EQ(read_all(*second, "c"), (Contents{{"k", "2"}}));
  EXPECT_EQ(read_all(*third, "c"), (Contents{{"k", "3"}}));
  EXPECT_EQ(column->get("k").value(), std::optional<std::string>("3"));
}

TEST(MemorySnapshotTest, IteratorOutlivesItsSnapshot) {
  auto backend = open_backend();
  auto column = backend->column("c").value();
  ASSERT_OK(column->put("k", "v"));
  auto snapshot = backend->snapshot().value();
  auto it = snapshot->iterate("c").value();
  snapshot.reset();
  ASSERT_OK(column->put("k", "changed"));
  ASSERT_TRUE(it->valid());
  EXPECT_EQ(it->key(), "k");
  EXPECT_EQ(it->value(), "v");
  it->next();
  EXPECT_FALSE(it->valid());
  EXPECT_OK(it->status());
}

TEST(MemorySnapshotTest, ClosedBackendFailsSnapshotsAndIterators) {
  auto backend = open_backend();
  auto column = backend->column("c").value();
  ASSERT_OK(column->put("a", "1"));
  ASSERT_OK(column->put("b", "2"));
  auto snapshot = backend->snapshot().value();
  auto it = snapshot->iterate("c").value();
  ASSERT_TRUE(it->valid());
  ASSERT_OK(backend->close());
  EXPECT_FALSE(it->valid());
  EXPECT_STATUS(it->status(), StatusCode::kClosed, "closed");
  EXPECT_STATUS(snapshot->iterate("c"), StatusCode::kClosed, "close() was called");
  EXPECT_STATUS(backend->snapshot(), StatusCode::kClosed, "close() was called");
}

}  // namespace
}  // namespace streamstate
