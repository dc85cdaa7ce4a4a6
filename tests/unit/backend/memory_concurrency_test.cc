// Concurrency of the memory backend (run under ThreadSanitizer in CI): atomic update() of one
// key from several threads, atomic batches as seen by snapshots taken and read on other
// threads while writers continue, and reads that touch the LRU list while snapshots share the
// table.
#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "streamstate/clock.h"
#include "streamstate/memory.h"
#include "testutil/status_matchers.h"

namespace streamstate {
namespace {

TEST(MemoryConcurrencyTest, UpdatesOfOneCounterNeverLoseAnIncrement) {
  auto backend = MemoryBackend::open({}).value();
  auto column = backend->column("counters").value();
  constexpr int kThreads = 4;
  constexpr int kIncrements = 10'000;
  const UpdateFunction increment = [](std::optional<BytesView> current) {
    const long value = current ? std::stol(std::string(*current)) : 0;
    return std::optional<std::string>(std::to_string(value + 1));
  };
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kIncrements; ++i) {
        if (!column->update("counter", increment).is_ok()) failures.fetch_add(1);
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(column->get("counter").value(), std::optional<std::string>(std::to_string(kThreads * kIncrements)));
  EXPECT_EQ(backend->statistics().puts, static_cast<uint64_t>(kThreads * kIncrements));
}

// Writers move whole "rows" at once: every batch writes the same generation number to all
// keys of a row. A snapshot must never show a row with mixed generations.
TEST(MemoryConcurrencyTest, SnapshotsReadOnAnotherThreadSeeWholeBatches) {
  MemoryBackendOptions options;
  options.shard_count = 16;
  auto backend = MemoryBackend::open(options).value();
  auto column = backend->column("rows").value();
  constexpr int kRows = 4;
  constexpr int kKeysPerRow = 8;
  constexpr int kGenerations = 300;
  auto key = [](int row, int k) { return "row" + std::to_string(row) + "/" + std::to_string(k); };

  std::atomic<bool> writers_done{false};
  std::vector<std::thread> writers;
  for (int row = 0; row < kRows; ++row) {
    writers.emplace_back([&, row] {
      for (int generation = 0; generation < kGenerations; ++generation) {
        WriteBatch batch;
        for (int k = 0; k < kKeysPerRow; ++k) batch.put("rows", key(row, k), std::to_string(generation));
        EXPECT_OK(backend->write(batch));
        // Single-key traffic on other keys clones shared tables as well.
        EXPECT_OK(column->put("loose" + std::to_string(row), std::to_string(generation)));
      }
    });
  }

  std::atomic<int> torn_rows{0};
  std::atomic<int> snapshots_read{0};
  std::thread reader([&] {
    auto check = [&] {
      auto snapshot = backend->snapshot();
      ASSERT_OK(snapshot);
      // Read it on yet another thread, as a checkpoint would.
      std::thread([&] {
        std::vector<std::vector<std::string>> rows(kRows);
        auto it = snapshot.value()->iterate("rows", "row").value();
        for (; it->valid(); it->next()) {
          const std::string k(it->key());
          rows[static_cast<size_t>(k[3] - '0')].emplace_back(it->value());
        }
        EXPECT_OK(it->status());
        for (const auto& values : rows) {
          if (values.empty()) continue;
          if (values.size() != kKeysPerRow) torn_rows.fetch_add(1);
          for (const std::string& value : values) {
            if (value != values.front()) torn_rows.fetch_add(1);
          }
        }
      }).join();
      snapshots_read.fetch_add(1);
    };
    while (!writers_done.load()) check();
    check();
  });

  for (std::thread& writer : writers) writer.join();
  writers_done.store(true);
  reader.join();
  EXPECT_EQ(torn_rows.load(), 0);
  EXPECT_GE(snapshots_read.load(), 1);
  auto last = backend->snapshot().value();
  auto it = last->iterate("rows", "row").value();
  int entries = 0;
  for (; it->valid(); it->next(), ++entries) EXPECT_EQ(it->value(), std::to_string(kGenerations - 1));
  EXPECT_EQ(entries, kRows * kKeysPerRow);
}

// With a size limit every get moves the entry in the LRU list, and with a TTL every cleanup
// removes entries: both are writes that must clone a table a snapshot shares.
TEST(MemoryConcurrencyTest, ReadsTouchingLruWhileSnapshotsAreReadElsewhere) {
  auto clock = std::make_shared<ManualClock>(0);
  MemoryBackendOptions options;
  options.shard_count = 4;
  options.max_entries = 200;
  options.ttl = std::chrono::milliseconds(1000);
  options.refresh_ttl_on_read = true;
  options.clock = clock;
  auto backend = MemoryBackend::open(options).value();
  auto column = backend->column("c").value();
  for (int i = 0; i < 150; ++i) ASSERT_OK(column->put("k" + std::to_string(i), "v"));

  std::atomic<bool> stop{false};
  std::vector<std::thread> threads;
  for (int t = 0; t < 2; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; !stop.load(); ++i) {
        EXPECT_OK(column->get("k" + std::to_string((i * 7 + t) % 150)));
        if (i % 10 == 0) EXPECT_OK(column->put("extra" + std::to_string(i % 300), "v"));
        if (i % 100 == 0) {
          clock->advance_millis(1);
          EXPECT_OK(backend->cleanup_expired());
        }
      }
    });
  }
  for (int round = 0; round < 50; ++round) {
    auto snapshot = backend->snapshot().value();
    std::thread([&snapshot] {
      size_t count = 0;
      auto it = snapshot->iterate("c").value();
      for (; it->valid(); it->next()) ++count;
      EXPECT_LE(count, 200u);
    }).join();
  }
  stop.store(true);
  for (std::thread& thread : threads) thread.join();
  EXPECT_LE(backend->statistics().live_entries, 200u);
}

// Snapshot copies point at long values' heap buffers while writers go on (the shard is locked
// only while its slots are walked): writers that replace values with same-size and other-size
// ones, remove and re-insert keys, expire them and drop a column must leave every snapshot
// exactly as of its moment (whole batches, intact bytes), read once or repeatedly. The first
// values are bulk-put (carved from slabs), the later ones written one by one.
TEST(MemoryConcurrencyTest, SnapshotsOfLongValuesStayExactWhileWritersReplaceThem) {
  auto clock = std::make_shared<ManualClock>(0);
  MemoryBackendOptions options;
  options.shard_count = 4;
  options.ttl = std::chrono::milliseconds(50);
  options.clock = clock;
  auto backend = MemoryBackend::open(options).value();
  constexpr int kRows = 8;
  constexpr int kKeysPerRow = 200;
  constexpr int kGenerations = 200;
  auto key = [](int row, int k) { return "row" + std::to_string(row) + "/" + std::to_string(k); };
  // Long enough for the heap; the length varies with the generation; the key is in the value.
  auto value = [](const std::string& k, int generation) {
    return std::to_string(generation) + "|" + k + "|" + std::string(static_cast<size_t>(40 + generation % 3 * 16), 'x');
  };
  auto generation_of = [](const std::string& k, const std::string& v) -> int {
    const size_t bar = v.find('|');
    if (bar == std::string::npos) return -1;
    const int generation = std::stoi(v.substr(0, bar));
    const std::string expected =
        std::to_string(generation) + "|" + k + "|" + std::string(static_cast<size_t>(40 + generation % 3 * 16), 'x');
    return v == expected ? generation : -1;
  };
  ASSERT_OK(backend->column("rows"));
  // Loaded as a restore loads: bulk puts, whose long values are carved from shared slabs.
  std::vector<std::pair<std::string, std::string>> first;
  for (int row = 0; row < kRows; ++row) {
    for (int k = 0; k < kKeysPerRow; ++k) first.emplace_back(key(row, k), value(key(row, k), 0));
  }
  std::vector<std::pair<BytesView, BytesView>> views(first.begin(), first.end());
  ASSERT_OK(backend->put_entries("rows", views));

  std::atomic<bool> writers_done{false};
  std::vector<std::thread> writers;
  for (int row = 0; row < kRows; ++row) {
    writers.emplace_back([&, row] {
      for (int generation = 1; generation < kGenerations; ++generation) {
        WriteBatch batch;
        if (generation % 5 == 0) {  // the row leaves and comes back in the next batch
          for (int k = 0; k < kKeysPerRow; ++k) batch.remove("rows", key(row, k));
          EXPECT_OK(backend->write(batch));
          batch = WriteBatch();
        }
        for (int k = 0; k < kKeysPerRow; ++k) batch.put("rows", key(row, k), value(key(row, k), generation));
        EXPECT_OK(backend->write(batch));
      }
    });
  }
  // Entries that expire and are cleaned up, and a column dropped and made again, beside them.
  writers.emplace_back([&] {
    for (int round = 0; !writers_done.load(); ++round) {
      auto scratch = backend->column("scratch");
      ASSERT_OK(scratch);
      for (int k = 0; k < 100; ++k) EXPECT_OK(scratch.value()->put("s" + std::to_string(k), value("s", round)));
      clock->advance_millis(1);
      EXPECT_OK(backend->cleanup_expired());
      if (round % 4 == 3) EXPECT_OK(backend->drop_column("scratch"));
    }
  });

  std::atomic<int> torn_rows{0};
  std::atomic<int> bad_values{0};
  std::atomic<int> snapshots_read{0};
  auto check = [&](bool once) {
    auto snapshot = backend->snapshot();
    ASSERT_OK(snapshot);
    std::thread([&] {
      std::vector<std::vector<int>> rows(kRows);
      auto it = once ? snapshot.value()->iterate_once("rows").value() : snapshot.value()->iterate("rows", "row").value();
      for (; it->valid(); it->next()) {
        const std::string k(it->key());
        const int generation = generation_of(k, std::string(it->value()));
        if (generation < 0) bad_values.fetch_add(1);
        rows[static_cast<size_t>(k[3] - '0')].push_back(generation);
      }
      EXPECT_OK(it->status());
      for (const auto& generations : rows) {
        if (generations.empty()) continue;
        if (generations.size() != kKeysPerRow) torn_rows.fetch_add(1);
        for (int generation : generations) {
          if (generation != generations.front()) torn_rows.fetch_add(1);
        }
      }
      if (snapshot.value()->columns().size() > 1) {  // "scratch" existed: its values are intact too
        auto scratch = snapshot.value()->iterate("scratch", "");
        if (scratch.is_ok()) {
          for (auto& s = scratch.value(); s->valid(); s->next()) {
            if (generation_of("s", std::string(s->value())) < 0) bad_values.fetch_add(1);
          }
        }
      }
    }).join();
    snapshots_read.fetch_add(1);
  };
  std::thread reader([&] {
    for (int i = 0; !writers_done.load(); ++i) check(i % 2 == 0);
  });
  for (int row = 0; row < kRows; ++row) writers[static_cast<size_t>(row)].join();
  writers_done.store(true);
  reader.join();
  writers.back().join();
  EXPECT_EQ(torn_rows.load(), 0);
  EXPECT_EQ(bad_values.load(), 0);
  EXPECT_GE(snapshots_read.load(), 1);
}

TEST(MemoryConcurrencyTest, CloseWhileOtherThreadsOperate) {
  auto backend = MemoryBackend::open({}).value();
  auto column = backend->column("c").value();
  std::atomic<bool> saw_closed{false};
  std::vector<std::thread> threads;
  for (int t = 0; t < 3; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0;; ++i) {
        Status status = column->put("k" + std::to_string((i + t) % 64), "v");
        if (status.code() == StatusCode::kClosed) break;
        EXPECT_OK(status);
      }
      saw_closed.store(true);
    });
  }
  while (backend->statistics().puts < 1000) std::this_thread::yield();
  ASSERT_OK(backend->close());
  for (std::thread& thread : threads) thread.join();
  EXPECT_TRUE(saw_closed.load());
}

}  // namespace
}  // namespace streamstate
