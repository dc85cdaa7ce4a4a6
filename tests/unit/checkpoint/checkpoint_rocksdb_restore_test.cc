// Checkpoints of the RocksDB backend through the StateBackend interface: restore into RocksDB
// and into memory (and back), expiring columns included, rescaling 2 -> 4 and 4 -> 2 into
// RocksDB, a partial and a point-in-time restore.
// Built only with RocksDB (not in the ThreadSanitizer build).
#include <gtest/gtest.h>

#include "streamstate/checkpoint.h"
#include "streamstate/rocksdb.h"
#include "testutil/temp_dir.h"
#include "unit/checkpoint/checkpoint_test_util.h"

namespace streamstate::testing {
namespace {

std::unique_ptr<RocksDbBackend> open_rocksdb(const TempDir& dir, const std::string& name) {
  RocksDbBackendOptions options;
  options.path = (dir.path() / name).string();
  auto backend = RocksDbBackend::open(options);
  EXPECT_TRUE(backend.is_ok()) << backend.status().to_string();
  return std::move(backend).value();
}

CheckpointOptions at(int64_t millis) {
  CheckpointOptions options;
  options.clock = std::make_shared<ManualClock>(millis);
  return options;
}

TEST(CheckpointRocksDbTest, RestoresIntoRocksDbAndMemoryAndBack) {
  TempDir dir;
  auto source = open_rocksdb(dir, "source");
  Contents expected = fill(*source, 3000);
  auto storage = open_directory_storage({.path = (dir.path() / "chk").string()});
  ASSERT_TRUE(storage.is_ok()) << storage.status().to_string();
  auto info = write_checkpoint(*source, **storage, at(kNow));
  ASSERT_TRUE(info.is_ok()) << info.status().to_string();
  EXPECT_EQ(info->manifest.backend_kind, "rocksdb");
  EXPECT_OK(verify_checkpoint(**storage, 1));

  auto into_rocksdb = open_rocksdb(dir, "target");
  ASSERT_OK(restore_checkpoint(**storage, 1, *into_rocksdb, {.key_groups = {}, .states = {}, .threads = 4}));
  EXPECT_EQ(read_all(*into_rocksdb), expected);
  // The expiring column was recreated as one: opening it without the option is refused.
  EXPECT_EQ(into_rocksdb->column_with_options("ttl", {.values_carry_expiry = false}).status().code(),
            StatusCode::kInvalidArgument);

  auto into_memory = open_memory();
  ASSERT_OK(restore_checkpoint(**storage, 1, *into_memory, {}));
  EXPECT_EQ(read_all(*into_memory), expected);

  // Memory -> RocksDB.
  auto memory_storage = open_memory_storage();
  ASSERT_OK(write_checkpoint(*into_memory, *memory_storage, at(kNow)));
  auto again = open_rocksdb(dir, "again");
  ASSERT_OK(restore_latest_checkpoint(*memory_storage, *again, {}));
  EXPECT_EQ(read_all(*again), expected);
}

void rescale_into_rocksdb(uint32_t from, uint32_t to) {
  SCOPED_TRACE(std::to_string(from) + " -> " + std::to_string(to));
  TempDir dir;
  auto source = open_rocksdb(dir, "source");
  Contents expected = fill(*source, 2000);
  std::vector<std::unique_ptr<CheckpointStorage>> storages;
  std::vector<RestoreSource> sources;
  for (uint32_t i = 0; i < from; ++i) {
    storages.push_back(open_memory_storage());
    CheckpointOptions options = at(kNow);
    options.key_groups = KeyGroupRange::for_operator(128, from, i);
    ASSERT_OK(write_checkpoint(*source, *storages.back(), options));
    sources.push_back({storages.back().get(), 1});
  }
  Contents united;
  for (uint32_t i = 0; i < to; ++i) {
    KeyGroupRange range = KeyGroupRange::for_operator(128, to, i);
    auto target = open_rocksdb(dir, "target-" + std::to_string(i));
    ASSERT_OK(restore_checkpoints(sources, *target, {.key_groups = range, .states = {}, .threads = 2}));
    Contents got = read_all(*target);
    EXPECT_EQ(got, within(expected, range));
    for (auto& [column, entries] : got) united[column].insert(entries.begin(), entries.end());
  }
  EXPECT_EQ(united, expected);
}

TEST(CheckpointRocksDbTest, RescalesTwoToFourAndFourToTwoIntoRocksDb) {
  rescale_into_rocksdb(2, 4);
  rescale_into_rocksdb(4, 2);
}

TEST(CheckpointRocksDbTest, PartialAndPointInTimeRestoresIntoRocksDb) {
  TempDir dir;
  auto source = open_rocksdb(dir, "source");
  auto storage = open_memory_storage();
  Contents first = fill(*source, 500, "first");
  ASSERT_OK(write_checkpoint(*source, *storage, at(kNow)));
  fill(*source, 500, "second");
  ASSERT_OK(write_checkpoint(*source, *storage, at(kNow + 100)));

  auto earlier = open_rocksdb(dir, "earlier");
  auto restored = restore_checkpoint_at_or_before(*storage, kNow + 50, *earlier, {});
  ASSERT_TRUE(restored.is_ok()) << restored.status().to_string();
  EXPECT_EQ(restored->ids, std::vector<CheckpointId>{1});
  EXPECT_EQ(read_all(*earlier), first);

  auto partial = open_rocksdb(dir, "partial");
  ASSERT_OK(restore_checkpoint(*storage, 1, *partial, {.key_groups = {}, .states = {"ttl"}}));
  Contents got = read_all(*partial);
  EXPECT_EQ(got["ttl"], first["ttl"]);
  EXPECT_FALSE(got.contains("counts"));
  EXPECT_FALSE(got.contains("bytes"));
}

}  // namespace
}  // namespace streamstate::testing
