// Redis snapshots: server-side copies taken atomically, isolated from later writes, and
// removed from the server when the snapshot is destroyed or the backend closed.

#include <gtest/gtest.h>
#include <unistd.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "streamstate/redis.h"
#include "testutil/redis_server.h"
#include "testutil/status_matchers.h"
#include "unit/backend/redis_test_helpers.h"

namespace streamstate {
namespace {

using testing::open_redis_backend;
using testing::unique_redis_prefix;
using testing::shared_redis_server;

std::string unique_prefix() { return unique_redis_prefix("s"); }

std::unique_ptr<RedisBackend> open_backend(const std::string& prefix) {
  RedisBackendOptions options;
  options.port = shared_redis_server().port();
  options.key_prefix = prefix;
  options.pipeline_depth = 8;  // several HSCAN pages per column
  return open_redis_backend(options);
}

std::map<std::string, std::string> read_all(BackendSnapshot& snapshot, std::string_view column,
                                            BytesView prefix = {}) {
  std::map<std::string, std::string> entries;
  Result<std::unique_ptr<SnapshotIterator>> iterator = snapshot.iterate(column, prefix);
  EXPECT_TRUE(iterator.is_ok()) << iterator.status().to_string();
  if (!iterator.is_ok()) return entries;
  for (; (*iterator)->valid(); (*iterator)->next()) {
    const bool inserted = entries.emplace((*iterator)->key(), (*iterator)->value()).second;
    EXPECT_TRUE(inserted) << "key returned twice: " << (*iterator)->key();
  }
  EXPECT_OK((*iterator)->status());
  return entries;
}

std::vector<std::string> snapshot_keys(const std::string& prefix) {
  Result<std::vector<std::string>> keys = shared_redis_server().command({"KEYS", prefix + ":snap{*"});
  EXPECT_TRUE(keys.is_ok()) << keys.status().to_string();
  return keys.is_ok() ? *keys : std::vector<std::string>{"<KEYS failed>"};
}

TEST(RedisSnapshotTest, LaterWritesAreInvisibleThroughTheSnapshot) {
  const std::string prefix = unique_prefix();
  std::unique_ptr<RedisBackend> backend = open_backend(prefix);
  ASSERT_NE(backend, nullptr);
  auto a = backend->column("a").value();
  auto empty = backend->column("empty").value();
  std::map<std::string, std::string> expected;
  for (int i = 0; i < 200; ++i) {
    const std::string key = "k" + std::to_string(i);
    ASSERT_OK(a->put(key, "old-" + key));
    expected[key] = "old-" + key;
  }
  ASSERT_OK(a->put(std::string("z\0", 2), ""));
  expected[std::string("z\0", 2)] = "";

  auto snapshot = backend->snapshot().value();
  ASSERT_OK(a->put("k1", "new"));
  ASSERT_OK(a->remove("k2"));
  ASSERT_OK(a->put("added", "x"));
  ASSERT_OK(empty->put("now-here", "x"));
  ASSERT_OK(backend->column("late"));
  ASSERT_OK(backend->drop_column("a"));

  EXPECT_EQ(snapshot->columns(), (std::vector<std::string>{"a", "empty"}));
  EXPECT_EQ(read_all(*snapshot, "a"), expected);
  EXPECT_TRUE(read_all(*snapshot, "empty").empty());
  EXPECT_STATUS(snapshot->iterate("late"), StatusCode::kNotFound, "late");

  std::map<std::string, std::string> with_prefix;
  for (int i = 100; i < 200; ++i) with_prefix["k" + std::to_string(i)] = "old-k" + std::to_string(i);
  with_prefix["k1"] = "old-k1";
  for (int i = 10; i < 20; ++i) with_prefix["k" + std::to_string(i)] = "old-k" + std::to_string(i);
  EXPECT_EQ(read_all(*snapshot, "a", "k1"), with_prefix);
}

TEST(RedisSnapshotTest, CopiesAreRemovedWhenTheSnapshotIsDestroyed) {
  const std::string prefix = unique_prefix();
  std::unique_ptr<RedisBackend> backend = open_backend(prefix);
  ASSERT_NE(backend, nullptr);
  ASSERT_OK(backend->column("a").value()->put("k", "v"));
  ASSERT_OK(backend->column("b").value()->put("k", "v"));
  {
    auto first = backend->snapshot().value();
    auto second = backend->snapshot().value();
    EXPECT_EQ(snapshot_keys(prefix).size(), 4u);  // two columns in each of two snapshots
    first.reset();
    EXPECT_EQ(snapshot_keys(prefix).size(), 2u);
    EXPECT_EQ(read_all(*second, "a"), (std::map<std::string, std::string>{{"k", "v"}}));
  }
  EXPECT_TRUE(snapshot_keys(prefix).empty());
}

TEST(RedisSnapshotTest, CloseRemovesTheCopiesOfLiveSnapshots) {
  const std::string prefix = unique_prefix();
  std::unique_ptr<RedisBackend> backend = open_backend(prefix);
  ASSERT_NE(backend, nullptr);
  ASSERT_OK(backend->column("a").value()->put("k", "v"));
  auto snapshot = backend->snapshot().value();
  EXPECT_EQ(snapshot_keys(prefix).size(), 1u);
  ASSERT_OK(backend->close());
  EXPECT_TRUE(snapshot_keys(prefix).empty());
  snapshot.reset();  // after close: nothing left to do, and no crash
}

TEST(RedisSnapshotTest, SnapshotsOfTwoInstancesWithOnePrefixGetDistinctCopies) {
  const std::string prefix = unique_prefix();
  std::unique_ptr<RedisBackend> first = open_backend(prefix);
  std::unique_ptr<RedisBackend> second = open_backend(prefix);
  ASSERT_NE(first, nullptr);
  ASSERT_NE(second, nullptr);
  auto column = first->column("a").value();
  ASSERT_OK(column->put("k", "1"));
  auto early = first->snapshot().value();
  ASSERT_OK(column->put("k", "2"));
  auto late = second->snapshot().value();
  EXPECT_EQ(read_all(*early, "a").at("k"), "1");
  EXPECT_EQ(read_all(*late, "a").at("k"), "2");
  late.reset();
  EXPECT_EQ(read_all(*early, "a").at("k"), "1");
}

TEST(RedisSnapshotTest, ReadableFromAnotherThread) {
  std::unique_ptr<RedisBackend> backend = open_backend(unique_prefix());
  ASSERT_NE(backend, nullptr);
  auto column = backend->column("a").value();
  for (int i = 0; i < 50; ++i) ASSERT_OK(column->put("k" + std::to_string(i), "v"));
  auto snapshot = backend->snapshot().value();
  size_t count = 0;
  std::thread reader([&] { count = read_all(*snapshot, "a").size(); });
  for (int i = 0; i < 50; ++i) ASSERT_OK(column->put("extra" + std::to_string(i), "v"));
  reader.join();
  EXPECT_EQ(count, 50u);
}

}  // namespace
}  // namespace streamstate
