// Redis-specific atomicity and scanning: update() across connections (as from several
// processes), pipelined MULTI/EXEC batches, and HSCAN with glob metacharacters, zero bytes and
// concurrent resizing.

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "streamstate/redis.h"
#include "testutil/redis_server.h"
#include "testutil/status_matchers.h"
#include "unit/backend/redis_test_helpers.h"

namespace streamstate {
namespace {

using testing::increment_counter;
using testing::open_redis_backend;
using testing::unique_redis_prefix;
using testing::shared_redis_server;

std::string unique_prefix() { return unique_redis_prefix("c"); }

std::unique_ptr<RedisBackend> open_backend(const std::string& prefix, uint32_t pipeline_depth = 512) {
  RedisBackendOptions options;
  options.port = shared_redis_server().port();
  options.key_prefix = prefix;
  options.pipeline_depth = pipeline_depth;
  return open_redis_backend(options);
}

TEST(RedisUpdateTest, FourThreadsOverTwoConnectionsCountExactly) {
  const std::string prefix = unique_prefix();
  std::unique_ptr<RedisBackend> backends[2] = {open_backend(prefix), open_backend(prefix)};
  ASSERT_NE(backends[0], nullptr);
  ASSERT_NE(backends[1], nullptr);
  std::shared_ptr<StateColumn> columns[2] = {backends[0]->column("counter").value(),
                                             backends[1]->column("counter").value()};
  constexpr int kThreads = 4;
  constexpr int kIncrementsPerThread = 300;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kIncrementsPerThread; ++i) {
        if (!columns[t % 2]->update("n", increment_counter).is_ok()) failures.fetch_add(1);
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(columns[0]->get("n").value(),
            std::optional<std::string>(std::to_string(kThreads * kIncrementsPerThread)));
  EXPECT_EQ(backends[0]->statistics().puts + backends[1]->statistics().puts,
            static_cast<uint64_t>(kThreads * kIncrementsPerThread));
}

TEST(RedisUpdateTest, ReturningNulloptRemovesAndAThrowingFunctionChangesNothing) {
  std::unique_ptr<RedisBackend> backend = open_backend(unique_prefix());
  ASSERT_NE(backend, nullptr);
  auto column = backend->column("c").value();
  ASSERT_OK(column->put("k", "v"));
  ASSERT_OK(column->update("k", [](std::optional<BytesView>) { return std::optional<std::string>(); }));
  EXPECT_EQ(column->get("k").value(), std::nullopt);

  ASSERT_OK(column->put("k", "kept"));
  EXPECT_STATUS(column->update("k",
                               [](std::optional<BytesView>) -> std::optional<std::string> {
                                 throw std::runtime_error("boom");
                               }),
                StatusCode::kFailedPrecondition, "boom");
  EXPECT_EQ(column->get("k").value(), std::optional<std::string>("kept"));
  // The abandoned WATCH must not make the next transaction on the connection fail.
  ASSERT_OK(column->put("k", "changed"));
  WriteBatch batch;
  batch.put("c", "other", "x");
  EXPECT_OK(backend->write(batch));
  EXPECT_EQ(column->get("other").value(), std::optional<std::string>("x"));
}

TEST(RedisBatchTest, TenThousandPipelinedOperationsAreAppliedAtomically) {
  const std::string prefix = unique_prefix();
  // A small pipeline depth makes each batch span many round trips.
  std::unique_ptr<RedisBackend> writer = open_backend(prefix, 64);
  std::unique_ptr<RedisBackend> reader = open_backend(prefix);
  ASSERT_NE(writer, nullptr);
  ASSERT_NE(reader, nullptr);
  ASSERT_OK(writer->column("c"));
  constexpr int kKeys = 10000;
  constexpr int kGenerations = 4;

  std::atomic<bool> done{false};
  std::atomic<int> torn_snapshots{0};
  std::atomic<int> snapshots_taken{0};
  std::thread observer([&] {
    while (!done.load()) {
      Result<std::unique_ptr<BackendSnapshot>> snapshot = reader->snapshot();
      if (!snapshot.is_ok()) {
        ADD_FAILURE() << snapshot.status().to_string();
        return;
      }
      std::set<std::string> generations;
      size_t count = 0;
      auto iterator = (*snapshot)->iterate("c").value();
      for (; iterator->valid(); iterator->next()) {
        generations.insert(std::string(iterator->value()));
        ++count;
      }
      EXPECT_OK(iterator->status());
      if (generations.size() > 1 || (count != 0 && count != kKeys)) torn_snapshots.fetch_add(1);
      snapshots_taken.fetch_add(1);
    }
  });
  for (int generation = 1; generation <= kGenerations; ++generation) {
    WriteBatch batch;
    for (int i = 0; i < kKeys; ++i)
      batch.put("c", "key-" + std::to_string(i), "gen-" + std::to_string(generation));
    ASSERT_OK(writer->write(batch));
  }
  done.store(true);
  observer.join();
  EXPECT_EQ(torn_snapshots.load(), 0) << "of " << snapshots_taken.load() << " snapshots";
  EXPECT_GT(snapshots_taken.load(), 0);
  EXPECT_EQ(reader->statistics().live_entries, static_cast<uint64_t>(kKeys));
  EXPECT_EQ(reader->column("c").value()->get("key-9999").value(),
            std::optional<std::string>("gen-" + std::to_string(kGenerations)));
}

TEST(RedisBatchTest, AMissingColumnAnywhereAppliesNothing) {
  std::unique_ptr<RedisBackend> backend = open_backend(unique_prefix(), 16);
  ASSERT_NE(backend, nullptr);
  auto column = backend->column("present").value();
  WriteBatch batch;
  for (int i = 0; i < 1000; ++i) batch.put("present", "k" + std::to_string(i), "v");
  batch.put("absent", "k", "v");
  EXPECT_STATUS(backend->write(batch), StatusCode::kNotFound, "absent");
  EXPECT_EQ(backend->statistics().live_entries, 0u);
  EXPECT_EQ(column->get("k0").value(), std::nullopt);
  EXPECT_EQ(backend->list_columns().value(), std::vector<std::string>{"present"});
}

TEST(RedisScanTest, GlobMetacharactersAndZeroBytesInThePrefixAreMatchedLiterally) {
  std::unique_ptr<RedisBackend> backend = open_backend(unique_prefix(), 7);
  ASSERT_NE(backend, nullptr);
  auto column = backend->column("c").value();
  const std::vector<std::string> specials = {
      "*", "?",  "[",  "]",   "\\", "[a-z]", "\\*", std::string("\0", 1), std::string("a\0*", 3),
      "a", "ab", "b*", "x?y", ""};
  std::set<std::string> keys;
  for (const std::string& head : specials) {
    for (const std::string& tail : specials) keys.insert(head + tail);
  }
  for (int i = 0; i < 300; ++i) keys.insert("plain-" + std::to_string(i));  // forces a real hash table
  WriteBatch batch;
  for (const std::string& key : keys) batch.put("c", key, "value-of-" + key);
  ASSERT_OK(backend->write(batch));

  for (const std::string& prefix : specials) {
    std::map<std::string, int> visits;
    const Status scanned = column->scan(prefix, [&](BytesView key, BytesView value) {
      EXPECT_EQ(value, "value-of-" + std::string(key));
      ++visits[std::string(key)];
      return true;
    });
    ASSERT_OK(scanned);
    std::set<std::string> expected;
    for (const std::string& key : keys) {
      if (key.starts_with(prefix)) expected.insert(key);
    }
    std::set<std::string> seen;
    for (const auto& [key, count] : visits) {
      EXPECT_EQ(count, 1) << "visited twice under prefix of " << prefix.size() << " bytes";
      seen.insert(key);
    }
    EXPECT_EQ(seen, expected) << "prefix of " << prefix.size() << " bytes: " << prefix;
  }
}

TEST(RedisScanTest, NoEntryIsVisitedTwiceWhileTheHashShrinks) {
  const std::string prefix = unique_prefix();
  // One entry per HSCAN page, so the scan is early in the table when the visitor shrinks it.
  std::unique_ptr<RedisBackend> backend = open_backend(prefix, 1);
  std::unique_ptr<RedisBackend> other = open_backend(prefix);
  ASSERT_NE(backend, nullptr);
  ASSERT_NE(other, nullptr);
  auto column = backend->column("c").value();
  constexpr int kKeys = 30000;
  WriteBatch fill;
  for (int i = 0; i < kKeys; ++i) fill.put("c", "k" + std::to_string(i), "v");
  ASSERT_OK(other->write(fill));

  // The visitor runs without locks held, so at the first entry it can remove every other key
  // (through another connection). Redis shrinks the hash table, and HSCAN's next pages then
  // cover the table bucket that held the first entry again: Redis returns it a second time,
  // which the scan must not pass on.
  std::string first_key;
  std::map<std::string, int> visits;
  Status removal_status;
  const Status scanned = column->scan("", [&](BytesView key, BytesView) {
    ++visits[std::string(key)];
    if (first_key.empty()) {
      first_key = std::string(key);
      WriteBatch removal;
      for (int i = 0; i < kKeys; ++i) {
        if ("k" + std::to_string(i) != first_key) removal.remove("c", "k" + std::to_string(i));
      }
      removal_status = other->write(removal);
    }
    return true;
  });
  ASSERT_OK(scanned);
  ASSERT_OK(removal_status);
  for (const auto& [key, count] : visits) EXPECT_EQ(count, 1) << key;
  EXPECT_EQ(visits[first_key], 1);
  EXPECT_EQ(other->statistics().live_entries, 1u);
}

TEST(RedisScanTest, VisitorMayWriteToTheSameBackendAndStopEarly) {
  std::unique_ptr<RedisBackend> backend = open_backend(unique_prefix(), 10);
  ASSERT_NE(backend, nullptr);
  auto column = backend->column("c").value();
  for (int i = 0; i < 100; ++i) ASSERT_OK(column->put("k" + std::to_string(i), "v"));
  int visited = 0;
  int failed_puts = 0;
  const Status scanned = column->scan("k", [&](BytesView key, BytesView) {
    if (!column->put(std::string(key), "seen").is_ok()) ++failed_puts;  // would deadlock if a lock were held
    return ++visited < 30;
  });
  ASSERT_OK(scanned);
  EXPECT_EQ(failed_puts, 0);
  EXPECT_EQ(visited, 30);
}

}  // namespace
}  // namespace streamstate
