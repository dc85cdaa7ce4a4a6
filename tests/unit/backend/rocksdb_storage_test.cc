// RocksDB backend: what the storage options do (compression, cache, memory budget), disk
// size, column families on disk, statistics and snapshots under concurrent writers.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <map>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "streamstate/rocksdb.h"
#include "testutil/status_matchers.h"
#include "testutil/temp_dir.h"
#include "unit/backend/rocksdb_test_fixture.h"

namespace streamstate {
namespace {

using testing::column_or_die;
using testing::contents;
using testing::open_or_die;
using testing::small_options;
using testing::TempDir;

// The shared small options with an 8 MiB write buffer: these tests write megabytes and look at
// what reaches the disk.
RocksDbBackendOptions storage_options(const std::string& path) {
  RocksDbBackendOptions options = small_options(path);
  options.write_buffer_bytes = 8 << 20;
  return options;
}

std::string key_of(int i) { return "key-" + std::to_string(100000 + i); }

// 1 KiB of text that every codec shrinks a lot.
std::string compressible_value(int i) {
  std::string value;
  while (value.size() < 1024) value += "value of entry " + std::to_string(i) + "; ";
  value.resize(1024);
  return value;
}

// Bytes no codec can shrink.
std::string random_bytes(std::mt19937_64& rng, size_t size) {
  std::string bytes(size, '\0');
  for (char& byte : bytes) byte = static_cast<char>(rng() & 0xff);
  return bytes;
}

size_t count_files_with_extension(const std::string& path, const std::string& extension) {
  size_t count = 0;
  for (const auto& entry : std::filesystem::directory_iterator(path)) {
    if (entry.path().extension() == extension) ++count;
  }
  return count;
}

constexpr int kCompressibleEntries = 1000;
constexpr uint64_t kCompressibleBytes = uint64_t{kCompressibleEntries} * 1024;

void write_compressible(StateColumn& column) {
  for (int i = 0; i < kCompressibleEntries; ++i) ASSERT_OK(column.put(key_of(i), compressible_value(i)));
}

std::string compression_test_name(const ::testing::TestParamInfo<CompressionType>& param_info) {
  return std::string(compression_name(param_info.param));
}

class RocksDbCompression : public ::testing::TestWithParam<CompressionType> {};

TEST_P(RocksDbCompression, DataRoundTripsThroughFlushCompactionAndReopen) {
  TempDir dir;
  RocksDbBackendOptions options = storage_options(dir.file("db"));
  options.compression = GetParam();
  options.bottommost_compression = GetParam();
  options.enable_wal = false;
  auto backend = open_or_die(options);
  ASSERT_NE(backend, nullptr);
  auto column = column_or_die(*backend, "data");
  write_compressible(*column);
  ASSERT_OK(backend->flush());
  ASSERT_OK(backend->compact());

  // The option is really applied: stored bytes shrink unless compression is off.
  const uint64_t stored = backend->statistics().bytes_in_use;
  if (GetParam() == CompressionType::kNone) {
    EXPECT_GT(stored, kCompressibleBytes);
  } else {
    EXPECT_LT(stored, kCompressibleBytes / 4);
  }
  ASSERT_OK(backend->close());
  backend.reset();

  auto reopened = open_or_die(options);
  ASSERT_NE(reopened, nullptr);
  auto data = contents(*column_or_die(*reopened, "data"));
  ASSERT_EQ(data.size(), static_cast<size_t>(kCompressibleEntries));
  for (int i = 0; i < kCompressibleEntries; ++i) EXPECT_EQ(data[key_of(i)], compressible_value(i));
}

INSTANTIATE_TEST_SUITE_P(EveryType, RocksDbCompression,
                         ::testing::Values(CompressionType::kNone, CompressionType::kLz4,
                                           CompressionType::kSnappy, CompressionType::kZstd),
                         compression_test_name);

TEST(RocksDbStorage, FlushUsesCompressionAndFullCompactionUsesBottommostCompression) {
  for (const bool compress_bottommost : {true, false}) {
    SCOPED_TRACE(compress_bottommost ? "none then zstd" : "zstd then none");
    TempDir dir;
    RocksDbBackendOptions options = storage_options(dir.file("db"));
    options.enable_wal = false;
    options.compression = compress_bottommost ? CompressionType::kNone : CompressionType::kZstd;
    options.bottommost_compression = compress_bottommost ? CompressionType::kZstd : CompressionType::kNone;
    auto backend = open_or_die(options);
    ASSERT_NE(backend, nullptr);
    write_compressible(*column_or_die(*backend, "data"));
    ASSERT_OK(backend->flush());
    const uint64_t flushed = backend->statistics().bytes_in_use;
    ASSERT_OK(backend->compact());
    const uint64_t compacted = backend->statistics().bytes_in_use;
    if (compress_bottommost) {
      EXPECT_GT(flushed, kCompressibleBytes);
      EXPECT_LT(compacted, kCompressibleBytes / 4);
    } else {
      EXPECT_LT(flushed, kCompressibleBytes / 4);
      EXPECT_GT(compacted, kCompressibleBytes);
    }
  }
}

TEST(RocksDbStorage, SizeOnDiskGrowsWhenAFlushPersistsMemtables) {
  TempDir dir;
  RocksDbBackendOptions options = storage_options(dir.file("db"));
  options.enable_wal = false;
  options.compression = CompressionType::kNone;
  options.bottommost_compression = CompressionType::kNone;
  auto backend = open_or_die(options);
  ASSERT_NE(backend, nullptr);
  auto column = column_or_die(*backend, "blobs");
  const uint64_t empty = backend->size_on_disk().value();
  EXPECT_GT(empty, 0u);  // CURRENT, MANIFEST, OPTIONS, LOG

  std::mt19937_64 rng(7);
  constexpr uint64_t kBytes = uint64_t{1} << 20;
  for (int i = 0; i < 256; ++i) ASSERT_OK(column->put(key_of(i), random_bytes(rng, kBytes / 256)));
  const uint64_t before_flush = backend->size_on_disk().value();
  EXPECT_LT(before_flush, empty + kBytes / 2);  // without a log, the data is only in memory
  ASSERT_OK(backend->flush());
  EXPECT_GE(backend->size_on_disk().value(), empty + kBytes);
}

TEST(RocksDbStorage, TwoBackendsShareOneCache) {
  EXPECT_STATUS(RocksDbCache::create(0), StatusCode::kInvalidArgument, "capacity_bytes");
  auto cache = RocksDbCache::create(32 << 20);
  ASSERT_OK(cache);
  EXPECT_EQ((*cache)->capacity_bytes(), uint64_t{32} << 20);
  EXPECT_EQ((*cache)->usage_bytes(), 0u);

  TempDir dir;
  std::vector<std::unique_ptr<RocksDbBackend>> backends;
  for (const char* name : {"first", "second"}) {
    RocksDbBackendOptions options = storage_options(dir.file(name));
    options.shared_cache = *cache;
    options.block_cache_bytes = 0;  // ignored with a shared cache
    backends.push_back(open_or_die(options));
    ASSERT_NE(backends.back(), nullptr);
    auto column = column_or_die(*backends.back(), "data");
    write_compressible(*column);
    ASSERT_OK(backends.back()->flush());
  }

  // Reads from the flushed tables of each backend fill the one cache.
  std::vector<uint64_t> usage;
  for (auto& backend : backends) {
    auto column = column_or_die(*backend, "data");
    std::string value;
    for (int i = 0; i < kCompressibleEntries; i += 7) {
      ASSERT_TRUE(column->get_into(key_of(i), value).value());
      ASSERT_EQ(value, compressible_value(i));
    }
    usage.push_back((*cache)->usage_bytes());
  }
  EXPECT_GT(usage[0], 0u);
  EXPECT_GT(usage[1], usage[0]);
  EXPECT_LE(usage[1], (*cache)->capacity_bytes());

  // Closing one leaves the cache working for the other.
  ASSERT_OK(backends[0]->close());
  EXPECT_EQ(column_or_die(*backends[1], "data")->get(key_of(3)).value(),
            std::optional<std::string>(compressible_value(3)));
}

TEST(RocksDbStorage, MemoryBudgetFlushesMemtablesLongBeforeTheWriteBufferFills) {
  constexpr int kEntries = 4000;  // 4 MiB, far below the 64 MiB write buffer
  for (const bool with_budget : {false, true}) {
    SCOPED_TRACE(with_budget ? "with a 1 MiB budget" : "without a budget");
    TempDir dir;
    auto cache = RocksDbCache::create(16 << 20).value();
    RocksDbBackendOptions options;
    options.path = dir.file("db");
    options.shared_cache = cache;
    options.write_buffer_bytes = uint64_t{64} << 20;
    options.memory_budget_bytes = with_budget ? (uint64_t{1} << 20) : 0;
    options.enable_wal = false;  // only memtables matter here; spares writing the log
    auto backend = open_or_die(options);
    ASSERT_NE(backend, nullptr);
    auto column = column_or_die(*backend, "data");
    std::mt19937_64 rng(11);
    for (int i = 0; i < kEntries; ++i) ASSERT_OK(column->put(key_of(i), random_bytes(rng, 1024)));

    if (with_budget) {
      // Memtable memory is charged to the block cache, and flushes keep it near the budget:
      // table files appear although flush() was never called (flushes run in the background).
      EXPECT_GT(cache->usage_bytes(), 0u);
      const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
      while (count_files_with_extension(options.path, ".sst") == 0 &&
             std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
      }
      EXPECT_GT(count_files_with_extension(options.path, ".sst"), 0u);
    } else {
      EXPECT_EQ(count_files_with_extension(options.path, ".sst"), 0u);
    }
    std::string value;
    for (int i = 0; i < kEntries; i += 97) EXPECT_TRUE(column->get_into(key_of(i), value).value());
    EXPECT_EQ(contents(*column).size(), static_cast<size_t>(kEntries));
  }
}

TEST(RocksDbStorage, ColumnsAreColumnFamiliesAndDroppingOnePersists) {
  TempDir dir;
  const std::string path = dir.file("db");
  auto backend = open_or_die(storage_options(path));
  ASSERT_NE(backend, nullptr);
  // A fresh database lists no column: RocksDB's own "default" family is not one.
  EXPECT_EQ(backend->list_columns().value(), std::vector<std::string>{});
  auto dropped = column_or_die(*backend, "dropped");
  auto kept = column_or_die(*backend, "kept");
  auto named_default = column_or_die(*backend, "default");
  ASSERT_OK(dropped->put("k", "gone"));
  ASSERT_OK(kept->put("k", "stays"));
  ASSERT_OK(named_default->put("k", "mine"));

  ASSERT_OK(backend->drop_column("dropped"));
  EXPECT_STATUS(backend->drop_column("dropped"), StatusCode::kNotFound, "dropped");
  EXPECT_STATUS(dropped->put("k", "v"), StatusCode::kNotFound, "was dropped");
  EXPECT_STATUS(dropped->get("k"), StatusCode::kNotFound, "was dropped");
  WriteBatch batch;
  batch.put("kept", "k2", "v2");
  batch.put("dropped", "k", "v");
  EXPECT_STATUS(backend->write(batch), StatusCode::kNotFound, "'dropped'");
  EXPECT_EQ(kept->get("k2").value(), std::nullopt);  // nothing of the batch was applied
  EXPECT_EQ(backend->list_columns().value(), (std::vector<std::string>{"default", "kept"}));
  ASSERT_OK(backend->close());
  backend.reset();

  auto reopened = open_or_die(storage_options(path));
  ASSERT_NE(reopened, nullptr);
  EXPECT_EQ(reopened->list_columns().value(), (std::vector<std::string>{"default", "kept"}));
  EXPECT_EQ(column_or_die(*reopened, "kept")->get("k").value(), std::optional<std::string>("stays"));
  EXPECT_EQ(column_or_die(*reopened, "default")->get("k").value(), std::optional<std::string>("mine"));
  // Creating the dropped column again gives an empty one.
  EXPECT_EQ(column_or_die(*reopened, "dropped")->get("k").value(), std::nullopt);
}

TEST(RocksDbStorage, ClearRemovesEveryKeyIncludingTheExtremes) {
  TempDir dir;
  const std::string path = dir.file("db");
  auto backend = open_or_die(storage_options(path));
  ASSERT_NE(backend, nullptr);
  auto cleared = column_or_die(*backend, "cleared");
  auto other = column_or_die(*backend, "other");
  for (const std::string& key :
       {std::string(), std::string("\0", 1), std::string("middle"), std::string("\xff\xff\xff")}) {
    ASSERT_OK(cleared->put(key, "v"));
    ASSERT_OK(other->put(key, "v"));
  }
  ASSERT_OK(backend->flush());  // some entries in a table file, some in the memtable
  ASSERT_OK(cleared->put("after-flush", "v"));
  ASSERT_OK(cleared->clear());
  EXPECT_TRUE(contents(*cleared).empty());
  EXPECT_EQ(contents(*other).size(), 4u);
  ASSERT_OK(cleared->clear());  // clearing an empty column is fine
  ASSERT_OK(cleared->put("new", "entry"));
  ASSERT_OK(backend->close());
  backend.reset();

  auto reopened = open_or_die(storage_options(path));
  ASSERT_NE(reopened, nullptr);
  EXPECT_EQ(contents(*column_or_die(*reopened, "cleared")),
            (std::map<std::string, std::string>{{"new", "entry"}}));
}

TEST(RocksDbStorage, StatisticsCountOperationsAndEstimateEntries) {
  TempDir dir;
  auto backend = open_or_die(storage_options(dir.file("db")));
  ASSERT_NE(backend, nullptr);
  auto column = column_or_die(*backend, "c");
  for (int i = 0; i < 100; ++i) ASSERT_OK(column->put(key_of(i), "value"));
  std::string value;
  for (int i = 0; i < 30; ++i) ASSERT_TRUE(column->get_into(key_of(i), value).value());
  EXPECT_FALSE(column->get_into("absent", value).value());
  EXPECT_TRUE(column->contains(key_of(5)).value());
  ASSERT_OK(column->remove(key_of(99)));
  ASSERT_OK(column->update(key_of(98), [](auto) { return std::nullopt; }));
  ASSERT_OK(column->update("fresh", [](auto) { return std::optional<std::string>("1"); }));
  ASSERT_OK(column->scan("key-", [](BytesView, BytesView) { return false; }));
  WriteBatch batch;
  batch.put("c", "b1", "v");
  batch.remove("c", "b2");
  ASSERT_OK(backend->write(batch));

  const BackendStatistics statistics = backend->statistics();
  EXPECT_EQ(statistics.gets, 32u);
  EXPECT_EQ(statistics.hits, 31u);
  EXPECT_EQ(statistics.misses, 1u);
  EXPECT_EQ(statistics.puts, 102u);
  EXPECT_EQ(statistics.removes, 3u);
  EXPECT_EQ(statistics.scans, 1u);
  EXPECT_EQ(statistics.batches, 1u);
  EXPECT_GT(statistics.bytes_in_use, 0u);
  ASSERT_OK(backend->flush());
  // Flushed: 98 live keys of the column plus "fresh" and "b1"; RocksDB's count is an estimate.
  const uint64_t live = backend->statistics().live_entries;
  EXPECT_GE(live, 90u);
  EXPECT_LE(live, 110u);
}

TEST(RocksDbStorage, ConcurrentUpdatesOfOneKeyAreAtomic) {
  TempDir dir;
  auto backend = open_or_die(storage_options(dir.file("db")));
  ASSERT_NE(backend, nullptr);
  auto column = column_or_die(*backend, "counter");
  constexpr int kThreads = 4;
  constexpr int kIncrements = 300;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kIncrements; ++i) {
        EXPECT_OK(column->update("n", [](std::optional<BytesView> current) {
          const int n = current ? std::stoi(std::string(*current)) : 0;
          return std::optional<std::string>(std::to_string(n + 1));
        }));
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(column->get("n").value(), std::optional<std::string>(std::to_string(kThreads * kIncrements)));
}

TEST(RocksDbStorage, SnapshotIsReadFromAnotherThreadWhileWritersContinue) {
  TempDir dir;
  auto backend = open_or_die(storage_options(dir.file("db")));
  ASSERT_NE(backend, nullptr);
  auto column = column_or_die(*backend, "c");
  for (int i = 0; i < 500; ++i) ASSERT_OK(column->put(key_of(i), "before"));
  ASSERT_OK(backend->flush());  // half of the entries in a table file, half in the memtable
  for (int i = 500; i < 1000; ++i) ASSERT_OK(column->put(key_of(i), "before"));
  std::unique_ptr<BackendSnapshot> snapshot = backend->snapshot().value();
  EXPECT_EQ(snapshot->columns(), std::vector<std::string>{"c"});
  auto later = column_or_die(*backend, "later");
  EXPECT_STATUS(snapshot->iterate("later"), StatusCode::kNotFound, "'later'");

  std::atomic<bool> stop{false};
  std::thread writer([&] {
    for (int i = 0; !stop; ++i) {
      ASSERT_OK(column->put(key_of(i % 1200), "after"));
      ASSERT_OK(column->remove(key_of((i * 7) % 1000)));
      if (i % 200 == 0) ASSERT_OK(backend->flush());
    }
  });
  std::map<std::string, std::string> seen;
  std::thread reader([&] {
    auto iterator = snapshot->iterate("c", "key-1");
    ASSERT_OK(iterator);
    for (; (*iterator)->valid(); (*iterator)->next()) {
      seen.emplace(std::string((*iterator)->key()), std::string((*iterator)->value()));
    }
    EXPECT_OK((*iterator)->status());
  });
  reader.join();
  stop = true;
  writer.join();
  ASSERT_EQ(seen.size(), 1000u);
  for (const auto& [key, value] : seen) EXPECT_EQ(value, "before") << key;
}

TEST(RocksDbStorage, SnapshotStillReadsAColumnDroppedAfterIt) {
  TempDir dir;
  auto backend = open_or_die(storage_options(dir.file("db")));
  ASSERT_NE(backend, nullptr);
  auto column = column_or_die(*backend, "c");
  for (int i = 0; i < 100; ++i) ASSERT_OK(column->put(key_of(i), "kept"));
  std::unique_ptr<BackendSnapshot> snapshot = backend->snapshot().value();
  ASSERT_OK(backend->drop_column("c"));
  EXPECT_EQ(backend->list_columns().value(), std::vector<std::string>{});
  size_t count = 0;
  auto iterator = snapshot->iterate("c");
  ASSERT_OK(iterator);
  for (; (*iterator)->valid(); (*iterator)->next()) {
    EXPECT_EQ((*iterator)->value(), "kept");
    ++count;
  }
  EXPECT_OK((*iterator)->status());
  EXPECT_EQ(count, 100u);
}

}  // namespace
}  // namespace streamstate
