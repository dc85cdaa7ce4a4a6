// Native checkpoints of the RocksDB backend: the checkpoint directory opens as a database with
// every write made before it (memtables included) and none after; table files keep their
// shared id from one checkpoint to the next while new data adds new tables (what incremental
// checkpoints upload); an existing directory is refused; retain_key_groups trims a restored
// database to one key-group range, leaves other columns alone, and two trimmed halves together
// hold exactly the original entries; ingest_sorted bulk-loads sorted entries.
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <set>
#include <string>

#include "rocksdb_test_fixture.h"
#include "streamstate/state_key.h"
#include "testutil/temp_dir.h"
#include "util/status_macros.h"

namespace streamstate {
namespace {

using testing::column_or_die;
using testing::contents;
using testing::open_or_die;
using testing::small_options;
using testing::TempDir;

std::set<std::string> shared_ids(const RocksDbCheckpointInfo& info) {
  std::set<std::string> ids;
  for (const RocksDbCheckpointFile& file : info.files) {
    if (!file.shared_id.empty()) ids.insert(file.shared_id);
  }
  return ids;
}

TEST(RocksDbNativeCheckpointTest, TheDirectoryOpensWithEveryEarlierWriteAndNoLaterOne) {
  TempDir dir;
  auto backend = open_or_die(small_options(dir.file("db")));
  auto column = column_or_die(*backend, "c");
  for (int i = 0; i < 1000; ++i) ASSERT_OK(column->put("k" + std::to_string(i), "v" + std::to_string(i)));
  const auto before = contents(*column);

  auto info = backend->create_native_checkpoint(dir.file("chk-1"));
  ASSERT_OK(info);
  ASSERT_OK(column->put("after", "x"));  // not in the checkpoint
  EXPECT_GT(info->sequence, 0u);
  bool has_table = false, has_current = false;
  for (const RocksDbCheckpointFile& file : info->files) {
    EXPECT_EQ(std::filesystem::file_size(std::filesystem::path(info->directory) / file.name), file.size) << file.name;
    if (file.name.ends_with(".sst")) {
      has_table = true;
      EXPECT_EQ(file.shared_id.size(), 32u) << file.name;  // 128-bit id in hex
    } else {
      EXPECT_TRUE(file.shared_id.empty()) << file.name;
    }
    if (file.name == "CURRENT") has_current = true;
    EXPECT_FALSE(file.name.ends_with(".log")) << "memtables are flushed, no log is needed";
  }
  EXPECT_TRUE(has_table);
  EXPECT_TRUE(has_current);

  auto restored = open_or_die(small_options(dir.file("chk-1")));
  EXPECT_EQ(contents(*column_or_die(*restored, "c")), before);
}

TEST(RocksDbNativeCheckpointTest, TablesKeepTheirIdsAcrossCheckpointsAndNewDataAddsTables) {
  TempDir dir;
  auto backend = open_or_die(small_options(dir.file("db")));
  auto column = column_or_die(*backend, "c");
  for (int i = 0; i < 500; ++i) ASSERT_OK(column->put("a" + std::to_string(i), std::string(100, 'x')));
  auto first = backend->create_native_checkpoint(dir.file("chk-1"));
  ASSERT_OK(first);
  for (int i = 0; i < 10; ++i) ASSERT_OK(column->put("b" + std::to_string(i), "y"));
  auto second = backend->create_native_checkpoint(dir.file("chk-2"));
  ASSERT_OK(second);

  const std::set<std::string> old_ids = shared_ids(*first);
  const std::set<std::string> new_ids = shared_ids(*second);
  ASSERT_FALSE(old_ids.empty());
  // No compaction ran between them (one small table each): every old table is shared, and the
  // new writes are in a table of their own.
  for (const std::string& id : old_ids) EXPECT_TRUE(new_ids.contains(id)) << id;
  EXPECT_GT(new_ids.size(), old_ids.size());
}

TEST(RocksDbNativeCheckpointTest, AnExistingDirectoryIsRefused) {
  TempDir dir;
  auto backend = open_or_die(small_options(dir.file("db")));
  std::filesystem::create_directories(dir.file("taken"));
  auto info = backend->create_native_checkpoint(dir.file("taken"));
  EXPECT_EQ(info.status().code(), StatusCode::kAlreadyExists);
  EXPECT_NE(info.status().message().find("taken"), std::string::npos) << info.status().message();
}

TEST(RocksDbNativeCheckpointTest, RetainKeyGroupsSplitsAStateIntoHalvesThatTogetherHoldEveryEntry) {
  TempDir dir;
  auto backend = open_or_die(small_options(dir.file("db")));
  auto state = column_or_die(*backend, "counts");
  auto other = column_or_die(*backend, "other");  // not keyed: must stay whole
  std::map<std::string, std::string> all;
  for (uint32_t group = 0; group < 128; ++group) {
    for (int user = 0; user < 3; ++user) {
      const std::string key = make_state_key(group, "u" + std::to_string(user));
      ASSERT_OK(state->put(key, std::to_string(group)));
      all.emplace(key, std::to_string(group));
    }
  }
  ASSERT_OK(other->put("\xff\xff-name", "kept"));
  ASSERT_OK(other->put("a", "kept"));
  auto checkpoint = backend->create_native_checkpoint(dir.file("chk"));
  ASSERT_OK(checkpoint);

  std::map<std::string, std::string> union_of_halves;
  for (const KeyGroupRange range : {KeyGroupRange(0, 64), KeyGroupRange(64, 128)}) {
    const std::string copy = dir.file("restore-" + std::to_string(range.begin()));
    std::filesystem::copy(dir.file("chk"), copy);
    auto restored = open_or_die(small_options(copy));
    ASSERT_OK(restored->retain_key_groups(range, {"counts"}));
    for (const auto& [key, value] : contents(*column_or_die(*restored, "counts"))) {
      const uint32_t group = static_cast<uint8_t>(key[0]) * 256u + static_cast<uint8_t>(key[1]);
      EXPECT_TRUE(range.contains(group)) << "key group " << group << " left in " << range.to_string();
      union_of_halves.emplace(key, value);
    }
    EXPECT_EQ(contents(*column_or_die(*restored, "other")).size(), 2u);
  }
  EXPECT_EQ(union_of_halves, all);
  EXPECT_EQ(backend->retain_key_groups(KeyGroupRange(0, 1), {"missing"}).code(), StatusCode::kNotFound);
}

// ingest_sorted: entries given in order join a column that holds others (an ingested key
// replaces the column's entry), survive a reopen with no write-ahead log involved, and
// out-of-order keys, a producer's error or an unknown column load nothing.
TEST(RocksDbNativeCheckpointTest, IngestSortedLoadsEntriesIntoAColumnThatHoldsOthers) {
  TempDir dir;
  std::map<std::string, std::string> expected;
  {
    auto backend = open_or_die(small_options(dir.file("db")));
    auto column = column_or_die(*backend, "c");
    for (int i = 0; i < 100; i += 2) {
      ASSERT_OK(column->put("k" + std::to_string(1000 + i), "old"));
      expected["k" + std::to_string(1000 + i)] = "old";
    }
    ASSERT_OK(backend->ingest_sorted("c", [&](const RocksDbBackend::IngestAdd& add) -> Status {
      for (int i = 0; i < 100; i += 3) {  // every third key: some new, some replacing
        const std::string key = "k" + std::to_string(1000 + i);
        STREAMSTATE_RETURN_IF_ERROR(add(key, "ingested" + std::to_string(i)));
        expected[key] = "ingested" + std::to_string(i);
      }
      return Status::ok();
    }));
    EXPECT_EQ(contents(*column), expected);
    ASSERT_OK(backend->ingest_sorted("c", [](const RocksDbBackend::IngestAdd&) { return Status::ok(); }));  // nothing

    EXPECT_STATUS(backend->ingest_sorted("c",
                                         [](const RocksDbBackend::IngestAdd& add) -> Status {
                                           STREAMSTATE_RETURN_IF_ERROR(add("z2", "x"));
                                           return add("z1", "x");
                                         }),
                  StatusCode::kInvalidArgument, "ascending");
    EXPECT_STATUS(backend->ingest_sorted("c",
                                         [](const RocksDbBackend::IngestAdd& add) -> Status {
                                           STREAMSTATE_RETURN_IF_ERROR(add("z3", "x"));
                                           return Status::io_error("the source went away");
                                         }),
                  StatusCode::kIoError, "the source went away");
    EXPECT_STATUS(backend->ingest_sorted("nope", [](const RocksDbBackend::IngestAdd&) { return Status::ok(); }),
                  StatusCode::kNotFound, "nope");
    EXPECT_EQ(contents(*column), expected);
    ASSERT_OK(backend->close());
  }
  for (const auto& entry : std::filesystem::directory_iterator(dir.file("db"))) {
    EXPECT_FALSE(entry.path().filename().string().starts_with("ingest-")) << "left over: " << entry.path();
  }
  auto reopened = open_or_die(small_options(dir.file("db")));
  EXPECT_EQ(contents(*column_or_die(*reopened, "c")), expected);
}

}  // namespace
}  // namespace streamstate
