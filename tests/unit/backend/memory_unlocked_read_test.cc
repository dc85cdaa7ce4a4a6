// Gets and contains of the memory backend take no shard mutex in the common case (see
// src/backend/memory/read_gate.h): they go on while another thread holds the shard's lock,
// they stay correct while writers grow, clone (snapshots), replace (clear) and free tables,
// and their statistics, counted per thread, add up exactly. Run under ThreadSanitizer in CI.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "streamstate/memory.h"
#include "testutil/status_matchers.h"

namespace streamstate {
namespace {

// Waits for `flag` for up to a minute (only a broken build waits that long).
bool wait_for(const std::atomic<bool>& flag) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(1);
  while (!flag.load()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::yield();
  }
  return true;
}

TEST(MemoryUnlockedReadTest, GetsProceedWhileAnUpdateHoldsTheShardLock) {
  MemoryBackendOptions options;
  options.shard_count = 1;  // every key in the shard whose lock update() holds
  auto backend = MemoryBackend::open(options).value();
  auto column = backend->column("c").value();
  ASSERT_OK(column->put("other", "x"));

  std::atomic<bool> in_update{false};
  std::atomic<bool> read_done{false};
  std::optional<std::string> read;
  bool contained = true;
  std::thread reader([&] {
    if (!wait_for(in_update)) return;
    read = column->get("other").value();
    contained = column->contains("absent").value();
    read_done.store(true);
  });
  bool reader_finished_inside = false;
  ASSERT_OK(column->update("counter", [&](std::optional<BytesView>) {
    in_update.store(true);
    // update() runs this under the shard lock: a get that locked would wait for it to return.
    reader_finished_inside = wait_for(read_done);
    return std::optional<std::string>("1");
  }));
  reader.join();
  EXPECT_TRUE(reader_finished_inside);
  EXPECT_EQ(read, std::optional<std::string>("x"));
  EXPECT_FALSE(contained);
  EXPECT_EQ(column->get("counter").value(), std::optional<std::string>("1"));
}

TEST(MemoryUnlockedReadTest, StatisticsOfGetsOnManyThreadsAddUpExactly) {
  auto backend = MemoryBackend::open({}).value();
  auto column = backend->column("c").value();
  for (int i = 0; i < 100; ++i) ASSERT_OK(column->put("key" + std::to_string(i), "v"));
  // More threads than thread slots (64): some share a slot, and no count may be lost.
  constexpr int kThreads = 70;
  constexpr int kRounds = 20;
  std::atomic<bool> start{false};
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      while (!start.load()) std::this_thread::yield();
      for (int round = 0; round < kRounds; ++round) {
        for (int i = 0; i < 100; ++i) {
          if (!column->get("key" + std::to_string(i)).value().has_value()) wrong.fetch_add(1);
        }
        if (column->contains("absent").value()) wrong.fetch_add(1);
      }
    });
  }
  start.store(true);
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(wrong.load(), 0);
  const BackendStatistics stats = backend->statistics();
  EXPECT_EQ(stats.hits, uint64_t{kThreads} * kRounds * 100);
  EXPECT_EQ(stats.misses, uint64_t{kThreads} * kRounds);
  EXPECT_EQ(stats.gets, stats.hits + stats.misses);
}

// A value that shows whether it was read whole: the key, then the generation repeated.
std::string value_for(int key, int generation) {
  std::string value = std::to_string(key) + ":";
  for (int i = 0; i < 8; ++i) value += std::to_string(generation) + ".";
  return value;
}

bool well_formed(int key, const std::string& value) {
  const std::string head = std::to_string(key) + ":";
  if (value.rfind(head, 0) != 0) return false;
  const size_t dot = value.find('.', head.size());
  if (dot == std::string::npos) return false;
  const int generation = std::stoi(value.substr(head.size(), dot - head.size()));
  return value == value_for(key, generation);
}

// Readers on three threads while one writer grows, replaces, clears and removes entries.
void check_readers_while_writers_change_tables(MemoryBackendOptions options) {
  options.shard_count = 4;
  auto backend = MemoryBackend::open(options).value();
  auto column = backend->column("c").value();
  constexpr int kKeys = 200;
  constexpr int kGenerations = 60;
  std::atomic<bool> writing{true};
  std::atomic<int> malformed{0};
  std::atomic<int> reads{0};

  std::vector<std::thread> readers;
  for (int r = 0; r < 3; ++r) {
    readers.emplace_back([&, r] {
      std::string value;
      // At least a few thousand reads each, and on until the writer is done.
      for (int i = 0; writing.load() || i < 5000; ++i) {
        const int key = (i * 7 + r) % kKeys;
        Result<bool> found = column->get_into(std::to_string(key), value);
        if (!found.is_ok() || (*found && !well_formed(key, value))) malformed.fetch_add(1);
        reads.fetch_add(1, std::memory_order_relaxed);
      }
    });
  }
  for (int generation = 0; generation < kGenerations; ++generation) {
    // Growing tables rehash; a live snapshot makes the next write clone the table; clear()
    // gives the column fresh tables and frees the old ones once the snapshot is gone.
    std::unique_ptr<BackendSnapshot> snapshot;
    if (generation % 3 == 1) snapshot = backend->snapshot().value();
    for (int key = 0; key < kKeys; ++key) {
      ASSERT_OK(column->put(std::to_string(key), value_for(key, generation)));
    }
    if (generation % 5 == 4) ASSERT_OK(column->clear());
    if (generation % 7 == 6) {
      WriteBatch batch;
      for (int key = 0; key < kKeys; key += 3) batch.remove("c", std::to_string(key));
      ASSERT_OK(backend->write(batch));
    }
  }
  writing.store(false);
  for (std::thread& reader : readers) reader.join();
  EXPECT_EQ(malformed.load(), 0);
  EXPECT_GE(reads.load(), 15000);
}

TEST(MemoryUnlockedReadTest, ReadersStayCorrectWhileWritersCloneReplaceAndFreeTables) {
  check_readers_while_writers_change_tables({});
}

// Without concurrent_reads gets lock the shard and writes skip the gate: still correct when
// several threads do read.
TEST(MemoryUnlockedReadTest, WithoutConcurrentReadsGetsLockAndStayCorrect) {
  MemoryBackendOptions options;
  options.concurrent_reads = false;
  check_readers_while_writers_change_tables(options);
}

TEST(MemoryUnlockedReadTest, ExpiredEntriesAreStillRemovedByTheGetThatFindsThem) {
  auto clock = std::make_shared<ManualClock>(1000);
  MemoryBackendOptions options;
  options.ttl = std::chrono::milliseconds(10);
  options.clock = clock;
  auto backend = MemoryBackend::open(options).value();
  auto column = backend->column("c").value();
  ASSERT_OK(column->put("k", "v"));
  EXPECT_TRUE(column->contains("k").value());
  clock->advance_millis(10);
  EXPECT_FALSE(column->get("k").value().has_value());
  const BackendStatistics stats = backend->statistics();
  EXPECT_EQ(stats.expirations, 1u);
  EXPECT_EQ(stats.live_entries, 0u);
  EXPECT_EQ(stats.hits, 1u);
  EXPECT_EQ(stats.misses, 1u);
}

}  // namespace
}  // namespace streamstate
